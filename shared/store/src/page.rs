//! One page of a listing.

use serde::Serialize;

/// The most items one call returns; larger limits are clamped to it. The API refuses limits
/// outside `1..=MAX_PAGE_SIZE` rather than clamping them, so its documented range is this.
pub const MAX_PAGE_SIZE: i32 = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Limits below 1 read one item rather than failing: a page always makes progress.
pub(crate) fn clamp_limit(limit: i32) -> i32 {
    limit.clamp(1, MAX_PAGE_SIZE)
}
