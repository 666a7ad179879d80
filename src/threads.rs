//! How many worker threads a parallel job (a directory walk, a history audit) uses.

/// `requested` threads, or one per available core when it is 0 (the `--threads` default).
pub fn worker_count(requested: usize) -> usize {
    if requested == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        requested
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_every_core() {
        assert_eq!(worker_count(3), 3);
        assert!(worker_count(0) >= 1);
        assert_eq!(
            worker_count(0),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
}
