//! Textbook queueing formulas used by the predictions: Erlang B and C, the M/M/c wait,
//! the Pollaczek–Khinchine mean wait for M/G/1 (and so M/D/1), the Cosmetatos
//! approximation for M/D/c and the Lee–Longton (Allen–Cunneen) two-moment approximation
//! for M/G/c. References: L. Kleinrock, *Queueing Systems, Vol. 1: Theory* (1975),
//! §3.6 (M/M/m), §5.6 (P-K mean value formula); D. Gross & C. Harris, *Fundamentals of
//! Queueing Theory*; G. Cosmetatos, "Some approximate equilibrium results for the
//! multi-server queue (M/G/r)", Operational Research Quarterly 27 (1976).

/// Erlang B (loss) probability `B(c, a)` for `c` servers offered `a` erlangs, by the
/// recursion `B(0, a) = 1`, `B(k, a) = a·B(k−1, a) / (k + a·B(k−1, a))`.
///
/// The recursion only multiplies and divides numbers in [0, 1] and `a`, so it stays
/// accurate for thousands of servers where the textbook sum `Σ a^k/k!` overflows.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival must wait in an M/M/c queue,
/// `C(c, a) = B / (1 − ρ(1 − B))` with `B = B(c, a)` and `ρ = a/c` (Kleinrock vol. 1,
/// eq. 3.40, rewritten in terms of Erlang B for numerical stability). Requires `a < c`;
/// returns 1 at or above saturation.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    if rho >= 1.0 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// Mean wait in queue of M/M/c: `W_q = C(c, a)·s / (c − a)` with `a = λ·s` erlangs
/// (Kleinrock vol. 1, eq. 3.43). With `c = 1` this is `ρ s/(1 − ρ) = ρ/(μ − λ)`.
/// `None` at or above saturation (`a ≥ c`).
pub fn mmc_wait(c: u32, lambda: f64, s: f64) -> Option<f64> {
    let a = lambda * s;
    (a < c as f64).then(|| erlang_c(c, a) * s / (c as f64 - a))
}

/// Pollaczek–Khinchine mean wait of M/G/1: `W_q = λ·E[S²] / (2(1 − ρ))`, `ρ = λ·E[S]`
/// (Kleinrock vol. 1, eq. 5.72). Exact for Poisson arrivals and any service law; with a
/// deterministic service `s` it is the M/D/1 wait `ρ s / (2(1 − ρ))`, with an exponential
/// one (`E[S²] = 2s²`) the M/M/1 wait `ρ s/(1 − ρ)`.
pub fn mg1_wait(lambda: f64, es: f64, es2: f64) -> Option<f64> {
    let rho = lambda * es;
    (rho < 1.0).then(|| lambda * es2 / (2.0 * (1.0 - rho)))
}

/// Cosmetatos' approximation of the M/D/c mean wait from the M/M/c one:
/// `W_q(M/D/c) ≈ ½·W_q(M/M/c)·[1 + (1 − ρ)(c − 1)(√(4 + 5c) − 2)/(16 ρ c)]`.
/// Exact (P-K) at `c = 1`; within a few per cent of published M/D/c tables otherwise.
pub fn mdc_wait_cosmetatos(c: u32, lambda: f64, s: f64) -> Option<f64> {
    let w = mmc_wait(c, lambda, s)?;
    let cf = c as f64;
    let rho = lambda * s / cf;
    if rho <= 0.0 {
        return Some(0.0);
    }
    let corr = 1.0 + (1.0 - rho) * (cf - 1.0) * ((4.0 + 5.0 * cf).sqrt() - 2.0) / (16.0 * rho * cf);
    Some(0.5 * w * corr)
}

/// How a mean wait was obtained (for the formula text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMethod {
    /// Pollaczek–Khinchine, exact for M/G/1.
    PollaczekKhinchine,
    /// Erlang C, exact for M/M/c.
    ErlangC,
    /// Cosmetatos, M/D/c.
    Cosmetatos,
    /// Lee–Longton, `W ≈ (1 + C_s²)/2 · W(M/M/c)`.
    LeeLongton,
}

impl WaitMethod {
    pub fn describe(self) -> &'static str {
        match self {
            WaitMethod::PollaczekKhinchine => "Pollaczek-Khinchine M/G/1: Wq = λ·E[S²]/(2(1−ρ))",
            WaitMethod::ErlangC => "Erlang C M/M/c: Wq = C(c,a)·E[S]/(c−a)",
            WaitMethod::Cosmetatos => {
                "Cosmetatos M/D/c: Wq ≈ ½·Wq(M/M/c)·[1+(1−ρ)(c−1)(√(4+5c)−2)/(16ρc)]"
            }
            WaitMethod::LeeLongton => "Lee-Longton M/G/c: Wq ≈ (1+Cs²)/2 · Wq(M/M/c)",
        }
    }
}

/// Mean wait of an M/G/c FIFO queue with arrival rate `lambda` and service moments
/// `es = E[S]`, `es2 = E[S²]`: P-K for one server; Erlang C when the service is
/// exponential (`C_s² = 1`); Cosmetatos when deterministic (`C_s² = 0`); Lee–Longton
/// otherwise. `None` at or above saturation.
pub fn mgc_wait(c: u32, lambda: f64, es: f64, es2: f64) -> Option<(f64, WaitMethod)> {
    if lambda <= 0.0 || es <= 0.0 {
        return Some((0.0, WaitMethod::PollaczekKhinchine));
    }
    if c == 1 {
        return mg1_wait(lambda, es, es2).map(|w| (w, WaitMethod::PollaczekKhinchine));
    }
    let cs2 = (es2 / (es * es) - 1.0).max(0.0);
    if (cs2 - 1.0).abs() < 1e-9 {
        mmc_wait(c, lambda, es).map(|w| (w, WaitMethod::ErlangC))
    } else if cs2 < 1e-9 {
        mdc_wait_cosmetatos(c, lambda, es).map(|w| (w, WaitMethod::Cosmetatos))
    } else {
        mmc_wait(c, lambda, es).map(|w| ((1.0 + cs2) / 2.0 * w, WaitMethod::LeeLongton))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook sum, in log space: an independent check of the recursion.
    fn erlang_c_direct(c: u32, a: f64) -> f64 {
        let ln_term = |k: u32| k as f64 * a.ln() - (1..=k).map(|i| (i as f64).ln()).sum::<f64>();
        let top = ln_term(c) + (c as f64 / (c as f64 - a)).ln();
        let max = top.max((0..c).map(ln_term).fold(f64::MIN, f64::max));
        let sum: f64 = (0..c).map(|k| (ln_term(k) - max).exp()).sum::<f64>() + (top - max).exp();
        (top - max).exp() / sum
    }

    #[test]
    fn erlang_c_of_one_server_is_rho() {
        for rho in [0.1, 0.5, 0.9, 0.99] {
            assert!((erlang_c(1, rho) - rho).abs() < 1e-12);
        }
    }

    #[test]
    fn erlang_values_match_tables() {
        // C(2, 1) = (1/2·2)/(1 + 1 + 1) = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Erlang B tables: B(10, 8 E) = 0.1217, B(5, 2 E) = 0.0367.
        assert!((erlang_b(10, 8.0) - 0.1217).abs() < 5e-5);
        assert!((erlang_b(5, 2.0) - 0.0367).abs() < 5e-5);
        // Erlang C(10, 8 E) = 0.4092 (from the same table entry).
        assert!((erlang_c(10, 8.0) - 0.4092).abs() < 2e-4);
        for (c, a) in [(3, 2.5), (10, 8.0), (50, 45.0), (200, 190.0)] {
            assert!(
                (erlang_c(c, a) - erlang_c_direct(c, a)).abs() < 1e-9,
                "c={c} a={a}"
            );
        }
    }

    #[test]
    fn erlang_is_stable_for_many_servers() {
        let c = erlang_c(10_000, 9_900.0);
        assert!(c.is_finite() && c > 0.0 && c < 1.0);
        assert_eq!(erlang_c(4, 4.0), 1.0);
    }

    #[test]
    fn single_server_waits() {
        // M/M/1 at ρ = 0.5, s = 1: Wq = ρ/(μ − λ) = 0.5/(1 − 0.5) = 1.
        assert!((mmc_wait(1, 0.5, 1.0).unwrap() - 1.0).abs() < 1e-12);
        assert!((mg1_wait(0.5, 1.0, 2.0).unwrap() - 1.0).abs() < 1e-12);
        // M/D/1 at ρ = 0.5: half of that.
        assert!((mg1_wait(0.5, 1.0, 1.0).unwrap() - 0.5).abs() < 1e-12);
        assert!((mdc_wait_cosmetatos(1, 0.5, 1.0).unwrap() - 0.5).abs() < 1e-12);
        assert!(mg1_wait(1.0, 1.0, 1.0).is_none());
    }

    #[test]
    fn cosmetatos_lies_between_half_and_full_mmc() {
        for (c, lambda) in [(2, 1.0), (8, 6.0), (32, 30.0)] {
            let mm = mmc_wait(c, lambda, 1.0).unwrap();
            let md = mdc_wait_cosmetatos(c, lambda, 1.0).unwrap();
            assert!(md >= 0.5 * mm && md < mm, "c={c}: {md} vs {mm}");
        }
        let (w2, m) = mgc_wait(2, 1.0, 1.0, 2.0).unwrap();
        assert_eq!(m, WaitMethod::ErlangC);
        assert!((w2 - 1.0 / 3.0).abs() < 1e-12);
    }
}
