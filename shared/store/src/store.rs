//! The repository handle and the single-item calls every entity module shares.

use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::idempotency::IdempotencyStore;
use crate::item::{Item, key};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use std::sync::Arc;

/// Tenant data, routing and message history in one DynamoDB table. Cheap to clone: the SDK
/// client is shared.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: Arc<str>,
}

/// How a conditional write ended when the condition was the only thing that could fail.
#[derive(Debug)]
pub(crate) enum Conditional {
    Written,
    /// The condition did not hold; the item as it was, when DynamoDB returned it.
    ConditionFailed(Option<Item>),
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: Arc::from(table.into()),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Idempotency records in the same table.
    pub fn idempotency(&self) -> IdempotencyStore {
        IdempotencyStore::new(self.client.clone(), self.table.to_string())
    }

    /// Strongly consistent: callers decide on what they read (pointers, dedupe records).
    pub(crate) async fn get(
        &self,
        operation: &'static str,
        pk: String,
        sk: &str,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(operation, e))?;
        Ok(out.item)
    }

    pub(crate) async fn put(&self, operation: &'static str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| from_sdk(operation, e))?;
        Ok(())
    }

    pub(crate) async fn put_if(
        &self,
        operation: &'static str,
        item: Item,
        condition: &str,
        placeholders: &Placeholders,
    ) -> Result<Conditional, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(placeholders.names())
            .set_expression_attribute_values(placeholders.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Conditional::Written),
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    let old = match e {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                            c.item().cloned()
                        }
                        _ => None,
                    };
                    Ok(Conditional::ConditionFailed(old))
                }
                _ => Err(from_sdk(operation, err)),
            },
        }
    }

    pub(crate) async fn update_if(
        &self,
        operation: &'static str,
        pk: String,
        sk: &str,
        update: &str,
        condition: Option<&str>,
        placeholders: &Placeholders,
    ) -> Result<Conditional, StoreError> {
        let request = self
            .client
            .update_item()
            .set_condition_expression(condition.map(str::to_owned));
        self.send_update(request, operation, key(pk, sk), update, placeholders)
            .await
    }

    /// As [`Self::update_if`], and a failed condition comes back with the item as it was, so
    /// the caller can tell why without reading it again.
    pub(crate) async fn update_if_returning_old(
        &self,
        operation: &'static str,
        pk: String,
        sk: &str,
        update: &str,
        condition: &str,
        placeholders: &Placeholders,
    ) -> Result<Conditional, StoreError> {
        let request = self
            .client
            .update_item()
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        self.send_update(request, operation, key(pk, sk), update, placeholders)
            .await
    }

    /// Sends a conditional update; a failed condition is an answer, with the old item when the
    /// request asked for it.
    async fn send_update(
        &self,
        request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        operation: &'static str,
        key: Item,
        update: &str,
        placeholders: &Placeholders,
    ) -> Result<Conditional, StoreError> {
        let result = request
            .table_name(self.table.as_ref())
            .set_key(Some(key))
            .update_expression(update)
            .set_expression_attribute_names(placeholders.names())
            .set_expression_attribute_values(placeholders.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Conditional::Written),
            Err(err) => match err.as_service_error() {
                Some(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                ) => Ok(Conditional::ConditionFailed(c.item().cloned())),
                _ => Err(from_sdk(operation, err)),
            },
        }
    }

    pub(crate) async fn delete_if(
        &self,
        operation: &'static str,
        pk: String,
        sk: &str,
        condition: Option<&str>,
        placeholders: &Placeholders,
    ) -> Result<Conditional, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(pk, sk)))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(placeholders.names())
            .set_expression_attribute_values(placeholders.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Conditional::Written),
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    Ok(Conditional::ConditionFailed(None))
                }
                _ => Err(from_sdk(operation, err)),
            },
        }
    }
}
