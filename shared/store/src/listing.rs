//! Pages of a tenant's items from the `gsi1` index, newest first or oldest first, with signed
//! cursors that only the same listing accepts.

use crate::cursor::Cursors;
use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{Item, s};
use crate::keys;
use crate::page::{Page, clamp_limit};
use crate::store::Store;

/// One listing of `gsi1` partition `gsi1pk`, whose items' `pk` all start with `pk_prefix`.
pub(crate) struct IndexListing<'a> {
    pub operation: &'static str,
    pub gsi1pk: String,
    pub pk_prefix: String,
    pub sk: &'a str,
    pub newest_first: bool,
}

/// Only items whose `attribute` equals `value` (a filter expression: DynamoDB applies the
/// page's limit first, so a filtered page may be short).
pub(crate) struct IndexFilter {
    pub attribute: &'static str,
    pub value: String,
}

impl Store {
    pub(crate) async fn list_index(
        &self,
        listing: IndexListing<'_>,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        self.list_index_filtered(listing, None, limit, cursor, cursors)
            .await
    }

    pub(crate) async fn list_index_filtered(
        &self,
        listing: IndexListing<'_>,
        filter: Option<IndexFilter>,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let IndexListing {
            operation,
            gsi1pk,
            pk_prefix,
            sk,
            newest_first,
        } = listing;
        let scope = format!("{operation}:{gsi1pk}");
        let start = cursor
            .map(|c| {
                cursors.decode(&scope, c, |key| {
                    key.len() == 4
                        && key.get(keys::GSI1PK) == Some(&gsi1pk)
                        && key
                            .get(keys::PK)
                            .is_some_and(|pk| pk.starts_with(&pk_prefix))
                        && key.get(keys::SK).map(String::as_str) == Some(sk)
                        && key.contains_key(keys::GSI1SK)
                })
            })
            .transpose()?;
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name(keys::GSI1PK),
            p.value("gsi1pk", s(gsi1pk.as_str()))
        );
        let filter = filter.map(|f| {
            format!(
                "{} = {}",
                p.name(f.attribute),
                p.value("filter", s(f.value))
            )
        });
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression(condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .scan_index_forward(!newest_first)
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk(operation, e))?;
        let next = cursors.next(&scope, out.last_evaluated_key.as_ref())?;
        Ok((out.items.unwrap_or_default(), next))
    }

    /// [`list_index`](Self::list_index), each item read as `T`.
    pub(crate) async fn list_index_of<T: serde::de::DeserializeOwned>(
        &self,
        listing: IndexListing<'_>,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<T>, StoreError> {
        let (items, next_cursor) = self.list_index(listing, limit, cursor, cursors).await?;
        Ok(Page {
            items: items
                .into_iter()
                .map(crate::item::from_item)
                .collect::<Result<_, _>>()?,
            next_cursor,
        })
    }
}
