//! Experiment files: TOML → validated [`Experiment`] → [`Plan`] of runs.
//! (Being built; see the helper brief in the commit history.)
