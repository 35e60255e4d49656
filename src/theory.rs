//! Closed-form predictions beside the simulation. (Being built.)
