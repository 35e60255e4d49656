//! Reports: results.csv / results.json / table.md / timeseries.csv / charts.
//! (Being built.)
