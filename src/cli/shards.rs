//! Shards (`rtsim run --shard K/N`) and `rtsim merge`: each shard writes its finished runs
//! with the plan's fingerprint; merge checks every shard against the plan, then says and
//! writes exactly what one whole run would have.

use super::*;

// ------------------------------------------------------------------- shards

pub(super) const SHARD_FILE: &str = "shard.json";

/// What one `run --shard K/N` writes: enough to rebuild the plan and every run it did.
#[derive(Serialize, Deserialize)]
struct ShardFile {
    rtsim_version: String,
    experiment: String,
    shard: Shard,
    runs: Vec<Completed>,
}

pub(super) fn write_shard(
    dir: &Path,
    exp: &Experiment,
    shard: Shard,
    runs: &[Completed],
) -> anyhow::Result<()> {
    let file = ShardFile {
        rtsim_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: exp.resolved_toml.clone(),
        shard,
        runs: runs.to_vec(),
    };
    let text = serde_json::to_string(&file)?;
    report::write_atomic(&dir.join(SHARD_FILE), text.as_bytes())?;
    Ok(())
}

/// A shard file's own fields: written by this version of rtsim, a shard `K/N` with
/// 0 ≤ K < N.
fn check_shard_header(path: &Path, s: &ShardFile) -> anyhow::Result<()> {
    let ours = env!("CARGO_PKG_VERSION");
    if s.rtsim_version != ours {
        return Err(anyhow!(
            "{} was written by rtsim {}, this is rtsim {ours}: rerun the shard with this \
             version (results are only reproducible within one version)",
            path.display(),
            s.rtsim_version
        ));
    }
    if s.shard.count == 0 || s.shard.index >= s.shard.count {
        return Err(anyhow!(
            "{}: shard {}/{} is not a shard (expected K/N with 0 ≤ K < N)",
            path.display(),
            s.shard.index,
            s.shard.count
        ));
    }
    Ok(())
}

/// Every run of a shard belongs to the plan (its row and replication exist, its id is
/// the one that row and replication have) and to that shard.
fn check_shard_runs(path: &Path, s: &ShardFile, plan: &Plan) -> anyhow::Result<()> {
    for c in &s.runs {
        let planned = plan
            .rows
            .get(c.row)
            .filter(|_| c.replication < plan.replications);
        let Some(planned) = planned else {
            return Err(anyhow!(
                "{}: run of row {} replication {} is not in the experiment's plan \
                 ({} rows × {} replications)",
                path.display(),
                c.row,
                c.replication,
                plan.rows.len(),
                plan.replications
            ));
        };
        let expected = runner::run_id(planned.row_id, c.replication);
        if c.id != expected {
            return Err(anyhow!(
                "{}: run of row {} replication {} has id {:016x}, the plan says {expected:016x}",
                path.display(),
                c.row,
                c.replication,
                c.id
            ));
        }
        if c.id % u64::from(s.shard.count) != u64::from(s.shard.index) {
            return Err(anyhow!(
                "{}: run {:016x} does not belong to shard {}/{}",
                path.display(),
                c.id,
                s.shard.index,
                s.shard.count
            ));
        }
    }
    Ok(())
}

pub(super) fn merge(a: args::MergeArgs) -> Result<(), Failure> {
    let mut shards = Vec::new();
    for dir in &a.dirs {
        let path = dir.join(SHARD_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map_err(usage)?;
        let shard: ShardFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a shard file", path.display()))
            .map_err(usage)?;
        check_shard_header(&path, &shard).map_err(usage)?;
        shards.push((path, shard));
    }
    let (first_path, first) = shards
        .first()
        .ok_or_else(|| usage(anyhow!("no shard folder given")))?;
    for (path, s) in &shards[1..] {
        if s.experiment != first.experiment {
            return Err(usage(anyhow!(
                "{} and {} come from different experiments",
                first_path.display(),
                path.display()
            )));
        }
        if s.shard.count != first.shard.count {
            return Err(usage(anyhow!(
                "{} is shard {}/{} but {} is shard {}/{}: shards of one split share N",
                first_path.display(),
                first.shard.index,
                first.shard.count,
                path.display(),
                s.shard.index,
                s.shard.count
            )));
        }
    }
    let exp = experiment::load_str("experiment.toml", &first.experiment, &[]).map_err(usage)?;
    let plan = exp.plan();
    for (path, s) in &shards {
        check_shard_runs(path, s, &plan).map_err(usage)?;
    }
    let mut runs: Vec<Completed> = shards.iter().flat_map(|(_, s)| s.runs.clone()).collect();
    runs.sort_by_key(|c| (c.row, c.replication));
    runs.dedup_by_key(|c| (c.row, c.replication));
    let rows = runner::rows(&plan, &runs).map_err(|e| {
        usage(anyhow!(
            "the shards do not cover the whole plan ({e}); are all {} shards here?",
            first.shard.count
        ))
    })?;
    let results = annotate(&plan, rows);
    let caveats = findings::Caveats::of(&plan, results.rows());
    let mut meta = metadata(&exp, &plan, 0.0, &results, &caveats);
    meta.resolved_experiment = first.experiment.clone();
    let out = a.out.unwrap_or_else(|| output::default_out(&exp.name));
    let staging = output::Staging::prepare(&out)?;
    let out = staging.target().to_path_buf();
    report::write_all(staging.dir(), &results, &meta).context("writing results")?;
    staging.commit()?;
    let done = format!("merged {} runs into {}", runs.len(), out.display());
    tell_results(&results, &meta, &caveats, false, &done)
}
