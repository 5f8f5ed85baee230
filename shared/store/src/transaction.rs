//! TransactWriteItems with its cancellation reasons read: a failed condition is an answer
//! ("already recorded"), a conflict with a concurrent transaction is worth a quick retry.

use crate::error::{StoreError, from_sdk, is_retryable_code};
use crate::expression::Placeholders;
use crate::item::Item;
use crate::keys;
use crate::store::Store;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, Put, TransactWriteItem};
use std::time::Duration;

/// Conflicts clear as soon as the other transaction commits; a few short waits cover it
/// without holding a Lambda invocation for long.
const CONFLICT_BACKOFF: [Duration; 3] = [
    Duration::from_millis(20),
    Duration::from_millis(60),
    Duration::from_millis(150),
];

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Transacted {
    Committed,
    /// Nothing was written; these items' conditions did not hold (indices into the request).
    ConditionFailed(Vec<usize>),
}

enum Cancelled {
    Conditions(Vec<usize>),
    Retryable(String),
    Permanent(String),
}

fn describe(reasons: &[CancellationReason]) -> String {
    reasons
        .iter()
        .map(|r| r.code().unwrap_or("None"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A failed condition was checked against committed state, so it decides the outcome even when
/// another item in the same request only conflicted.
fn classify(reasons: &[CancellationReason]) -> Cancelled {
    let mut conditions = Vec::new();
    let mut retryable = false;
    let mut permanent = false;
    for (index, reason) in reasons.iter().enumerate() {
        match reason.code().unwrap_or("None") {
            "None" => {}
            "ConditionalCheckFailed" => conditions.push(index),
            "TransactionConflict"
            | "ThrottlingError"
            | "ProvisionedThroughputExceeded"
            | "RequestLimitExceeded" => retryable = true,
            code if is_retryable_code(code) => retryable = true,
            _ => permanent = true,
        }
    }
    if permanent {
        Cancelled::Permanent(describe(reasons))
    } else if !conditions.is_empty() {
        Cancelled::Conditions(conditions)
    } else if retryable {
        Cancelled::Retryable(describe(reasons))
    } else {
        // Cancelled with no reason given: DynamoDB documents none, so treat it as transient.
        Cancelled::Retryable(describe(reasons))
    }
}

/// A put that fails the transaction if the item already exists.
pub(crate) fn put_if_absent(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let mut p = Placeholders::default();
    let condition = format!("attribute_not_exists({})", p.name(keys::PK));
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_names(p.names())
        .build()
        .map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl Store {
    pub(crate) async fn transact(
        &self,
        operation: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, StoreError> {
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Transacted::Committed),
                Err(err) => err,
            };
            let cancelled = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    classify(e.cancellation_reasons())
                }
                _ => return Err(from_sdk(operation, err)),
            };
            match cancelled {
                Cancelled::Conditions(indices) => return Ok(Transacted::ConditionFailed(indices)),
                Cancelled::Permanent(reasons) => {
                    return Err(StoreError::TransactionCancelled {
                        operation,
                        reasons,
                        retryable: false,
                    });
                }
                Cancelled::Retryable(reasons) => match CONFLICT_BACKOFF.get(attempt) {
                    Some(wait) => {
                        tracing::debug!(
                            operation,
                            reasons,
                            attempt,
                            "transaction conflict; retrying"
                        );
                        tokio::time::sleep(*wait).await;
                        attempt += 1;
                    }
                    None => {
                        return Err(StoreError::TransactionCancelled {
                            operation,
                            reasons,
                            retryable: true,
                        });
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    #[test]
    fn condition_failures_are_answers_conflicts_are_retries() {
        assert!(matches!(
            classify(&reasons(&["ConditionalCheckFailed", "None", "None"])),
            Cancelled::Conditions(i) if i == vec![0]
        ));
        assert!(matches!(
            classify(&reasons(&["ConditionalCheckFailed", "TransactionConflict"])),
            Cancelled::Conditions(i) if i == vec![0]
        ));
        assert!(matches!(
            classify(&reasons(&["None", "TransactionConflict"])),
            Cancelled::Retryable(_)
        ));
        assert!(matches!(
            classify(&reasons(&["ThrottlingError", "None"])),
            Cancelled::Retryable(_)
        ));
        assert!(matches!(
            classify(&reasons(&["ValidationError", "ConditionalCheckFailed"])),
            Cancelled::Permanent(_)
        ));
    }
}
