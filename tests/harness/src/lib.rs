//! Test harness for berth's end-to-end tests.
