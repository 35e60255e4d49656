//! TLS for a real run (`[network] tls = "1.3"` or `"1.2"`): rustls on both sides, with a
//! self-signed certificate for `localhost` made at run time by rcgen (no key file exists
//! anywhere; the certificate lives as long as the run).
//!
//! The cipher suite is pinned to AES-128-GCM, whose record overhead is the one the model
//! counts (`rtsim::wire::tls_record_overhead`: 22 B a record in TLS 1.3, 29 B in TLS 1.2
//! with its 8-byte explicit nonce; ChaCha20-Poly1305 in TLS 1.2 carries no explicit nonce
//! and would be 21 B). The server sends no session tickets: the model counts none, and
//! the real clients never resume. Client and relay see each other through an in-memory
//! pipe, so the relay counts ciphertext, as the network would.

use std::sync::Arc;

use rtsim::scenario::Tls;
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The name the certificate is made for, and the one clients ask for.
pub const SERVER_NAME: &str = "localhost";

/// Both ends of one run's TLS: the server's acceptor and the clients' connector, trusting
/// that one certificate alone.
#[derive(Clone)]
pub struct Pair {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

impl Pair {
    /// The name clients verify the server's certificate against.
    pub fn server_name() -> ServerName<'static> {
        ServerName::try_from(SERVER_NAME).expect("a valid DNS name")
    }
}

/// rustls's ring provider with only the AES-128-GCM suite of `version`.
fn provider(version: &'static rustls::SupportedProtocolVersion) -> CryptoProvider {
    // Deprecated only for lacking post-quantum key exchange, which changes the handshake's
    // bytes, not a record's; ring builds with nothing but cc (aws-lc-rs needs cmake).
    #[allow(deprecated)]
    let mut provider = ring::default_provider();
    let wanted = if version.version == rustls::ProtocolVersion::TLSv1_3 {
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
    } else {
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    };
    provider.cipher_suites.retain(|s| s.suite() == wanted);
    provider
}

/// The TLS of a run under `tls`: `None` for plain TCP. Both ends offer one ALPN protocol:
/// `h2` when the run speaks HTTP/2 (`http2`), else `http/1.1`.
pub fn pair(tls: Tls, http2: bool) -> Result<Option<Pair>, String> {
    let alpn: &[u8] = if http2 { b"h2" } else { b"http/1.1" };
    let version = match tls {
        Tls::None => return Ok(None),
        Tls::V1_2 => &rustls::version::TLS12,
        Tls::V1_3 => &rustls::version::TLS13,
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("TLS setup: {what}: {e}");
    // An ECDSA P-256 key: the suite above is ECDHE_ECDSA in TLS 1.2.
    let certified = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_string()])
        .map_err(|e| fail("making a self-signed certificate", &e))?;
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(provider(version));

    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .map_err(|e| fail("server versions", &e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(|e| fail("server certificate", &e))?;
    server.send_tls13_tickets = 0;
    server.alpn_protocols = vec![alpn.to_vec()];

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert)
        .map_err(|e| fail("trusting the certificate", &e))?;
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .map_err(|e| fail("client versions", &e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![alpn.to_vec()];

    Ok(Some(Pair {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        connector: TlsConnector::from(Arc::new(client)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One write of `n` plaintext bytes costs exactly the model's record overhead on the
    /// wire, for both versions: the ciphertext is counted between the two ends.
    #[test]
    fn a_write_costs_the_models_record_overhead() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for tls in [Tls::V1_3, Tls::V1_2] {
            let pair = pair(tls, false).unwrap().unwrap();
            let sizes: Vec<u64> = rt.block_on(async {
                let (client_io, server_io) = tokio::io::duplex(1 << 20);
                let accept = tokio::spawn({
                    let acceptor = pair.acceptor.clone();
                    async move { acceptor.accept(server_io).await.unwrap() }
                });
                // Count what the client side reads off the pipe: wrap the pipe's reads.
                let counted = Counted::new(client_io);
                let seen = counted.seen.clone();
                let mut client = pair
                    .connector
                    .connect(Pair::server_name(), counted)
                    .await
                    .unwrap();
                let mut server = accept.await.unwrap();
                // A byte each way settles the handshake's last flights.
                server.write_all(b"x").await.unwrap();
                server.flush().await.unwrap();
                let mut one = [0u8; 1];
                client.read_exact(&mut one).await.unwrap();
                let mut sizes = Vec::new();
                for n in [6usize, 174, 16_384, 16_385] {
                    let before = seen.load(std::sync::atomic::Ordering::SeqCst);
                    server.write_all(&vec![b'a'; n]).await.unwrap();
                    server.flush().await.unwrap();
                    let mut buf = vec![0u8; n];
                    client.read_exact(&mut buf).await.unwrap();
                    sizes.push(seen.load(std::sync::atomic::Ordering::SeqCst) - before);
                }
                sizes
            });
            let model: Vec<u64> = [6u64, 174, 16_384, 16_385]
                .iter()
                .map(|&n| rtsim::wire::tls_write_bytes(tls, n))
                .collect();
            assert_eq!(sizes, model, "{tls:?}");
        }
    }

    /// A pipe end that counts the bytes read through it.
    struct Counted {
        io: tokio::io::DuplexStream,
        seen: Arc<std::sync::atomic::AtomicU64>,
    }

    impl Counted {
        fn new(io: tokio::io::DuplexStream) -> Self {
            Counted {
                io,
                seen: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            }
        }
    }

    impl tokio::io::AsyncRead for Counted {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let out = std::pin::Pin::new(&mut self.io).poll_read(cx, buf);
            let n = (buf.filled().len() - before) as u64;
            self.seen.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            out
        }
    }

    impl tokio::io::AsyncWrite for Counted {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
        }
        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }
}
