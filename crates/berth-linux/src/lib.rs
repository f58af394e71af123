//! Kernel primitives.
