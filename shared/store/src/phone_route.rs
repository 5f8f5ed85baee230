//! Which tenant a business phone number belongs to. Global: a webhook names only the phone
//! number, and this is how its tenant is found.
//!
//! Ownership only changes by conditional writes. [`Store::put_phone_route`] creates a route for
//! a number no tenant holds (or refreshes the details of the tenant that holds it) and never
//! takes a number from another tenant; [`Store::move_phone_route`] hands a number from its
//! current owner to another tenant, conditioned on who the owner is, so two racing moves or a
//! move based on a stale read cannot both win. Each owner change bumps the item's `version`
//! and records `moved_at`, for audits and for callers that want to detect a change.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{Item, from_item, key, n, s, string_attribute, to_item};
use crate::keys;
use crate::store::Store;
use crate::timestamp;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use switchboard_domain::{PhoneNumberId, TenantId};
use time::OffsetDateTime;

/// Incremented on every change of owner; 1 for a route that never moved.
const VERSION: &str = "version";
/// When the route last changed owner (absent if it never did).
const MOVED_AT: &str = "moved_at";
const TENANT_ID: &str = "tenant_id";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneRoute {
    pub phone_number_id: PhoneNumberId,
    pub tenant_id: TenantId,
    pub waba_id: String,
    pub display_phone_number: String,
    /// The number's throughput at Meta (`switchboard_domain::throughput`), learned when it was
    /// connected; Meta's default of 80 when unknown (numbers routed before it was recorded).
    #[serde(default)]
    pub messages_per_second: Option<u32>,
}

/// How a conditional update of a route ended.
enum RouteUpdate {
    /// The item as written.
    Written(Item),
    /// The condition did not hold; the item as it was, if there was one.
    Refused(Option<Item>),
}

impl Store {
    /// Creates the route for a number no tenant holds, or updates the WABA and display number
    /// of the tenant that already holds it (re-onboarding, re-seeding). A number routed to
    /// another tenant is refused with [`StoreError::PhoneRouteOwner`]: only
    /// [`Store::move_phone_route`] changes a number's owner. Also indexed under the tenant
    /// (gsi1) so a tenant's numbers can be listed.
    pub async fn put_phone_route(&self, route: &PhoneRoute) -> Result<(), StoreError> {
        let pnid = route.phone_number_id.as_str();
        let mut p = Placeholders::default();
        let mut update = UpdateExpression::default();
        let mut fields = to_item(route)?;
        fields.insert(keys::ENTITY.to_owned(), s("phone_route"));
        fields.extend(tenant_index(&route.tenant_id, pnid)?);
        // Sorted, so the expression is the same on every call.
        let mut fields: Vec<_> = fields.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in fields {
            update.set(format!("{} = {}", p.name(&name), p.value(&name, value)));
        }
        let version = p.name(VERSION);
        update.set(format!(
            "{version} = if_not_exists({version}, {})",
            p.value("one", n(1))
        ));
        let condition = format!(
            "attribute_not_exists({}) OR {} = {}",
            p.name(keys::PK),
            p.name(TENANT_ID),
            p.value("owner", s(route.tenant_id.as_str())),
        );
        match self
            .update_route(
                "put_phone_route",
                &route.phone_number_id,
                &update.build(),
                &condition,
                &p,
            )
            .await?
        {
            RouteUpdate::Written(_) => Ok(()),
            RouteUpdate::Refused(old) => Err(owner_mismatch(&route.phone_number_id, old)),
        }
    }

    /// Moves the number from `from` to `to`, only if `from` holds it now. Refused with
    /// [`StoreError::PhoneRouteOwner`] (naming the current owner, if any) when the number is
    /// unrouted or held by someone else, including when this very move already happened: a
    /// retry that sees `to` as the owner knows it succeeded. `to` must be an existing tenant.
    /// WABA and display number stay as they are; the new owner updates them with
    /// [`Store::put_phone_route`]. Returns the route as written.
    ///
    /// Readers that must not act for the old owner (the outbound send, inbound routing) read
    /// the route with [`Store::find_phone_route`], which is strongly consistent.
    pub async fn move_phone_route(
        &self,
        pnid: &PhoneNumberId,
        from: &TenantId,
        to: &TenantId,
        now: OffsetDateTime,
    ) -> Result<PhoneRoute, StoreError> {
        if from == to {
            return match self.find_phone_route(pnid).await? {
                Some(route) if route.tenant_id == *from => Ok(route),
                current => Err(StoreError::PhoneRouteOwner {
                    phone_number_id: pnid.clone(),
                    current_owner: current.map(|r| r.tenant_id),
                }),
            };
        }
        if self.get_tenant(to).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "tenant to move the phone number to",
            });
        }
        let mut p = Placeholders::default();
        let mut update = UpdateExpression::default();
        let tenant = p.name(TENANT_ID);
        update.set(format!("{tenant} = {}", p.value("to", s(to.as_str()))));
        for (name, value) in tenant_index(to, pnid.as_str())? {
            update.set(format!("{} = {}", p.name(&name), p.value(&name, value)));
        }
        update.set(format!(
            "{} = {}",
            p.name(MOVED_AT),
            p.value("now", s(timestamp::encode(now)?))
        ));
        // A route written before versions existed counts as version 1.
        let version = p.name(VERSION);
        let one = p.value("one", n(1));
        update.set(format!(
            "{version} = if_not_exists({version}, {one}) + {one}"
        ));
        let condition = format!("{tenant} = {}", p.value("from", s(from.as_str())));
        match self
            .update_route("move_phone_route", pnid, &update.build(), &condition, &p)
            .await?
        {
            RouteUpdate::Written(item) => {
                tracing::info!(phone_number_id = %pnid, from = %from, to = %to, "phone number moved to another tenant");
                from_item(item)
            }
            RouteUpdate::Refused(old) => Err(owner_mismatch(pnid, old)),
        }
    }

    /// Strongly consistent, never cached: what it answers is who holds the number now.
    pub async fn find_phone_route(
        &self,
        pnid: &PhoneNumberId,
    ) -> Result<Option<PhoneRoute>, StoreError> {
        self.get(
            "find_phone_route",
            keys::phone_route_pk(pnid.as_str())?,
            keys::ROUTE_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Disconnects the number while `owner` holds it; `PhoneRouteOwner` when it does not
    /// (another tenant's number is never removed).
    pub async fn delete_phone_route(
        &self,
        pnid: &PhoneNumberId,
        owner: &TenantId,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name(TENANT_ID),
            p.value("owner", s(owner.as_str()))
        );
        match self
            .delete_if(
                "delete_phone_route",
                keys::phone_route_pk(pnid.as_str())?,
                keys::ROUTE_SK,
                Some(&condition),
                &p,
            )
            .await?
        {
            crate::store::Conditional::Written => Ok(()),
            crate::store::Conditional::ConditionFailed(_) => Err(StoreError::PhoneRouteOwner {
                phone_number_id: pnid.clone(),
                current_owner: None,
            }),
        }
    }

    async fn update_route(
        &self,
        operation: &'static str,
        pnid: &PhoneNumberId,
        update: &str,
        condition: &str,
        p: &Placeholders,
    ) -> Result<RouteUpdate, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::phone_route_pk(pnid.as_str())?,
                keys::ROUTE_SK,
            )))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(RouteUpdate::Written(out.attributes.unwrap_or_default())),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let old = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                    _ => None,
                };
                match old {
                    Some(old) => Ok(RouteUpdate::Refused(Some(old))),
                    // Not every emulator returns the old item: read it.
                    None => Ok(RouteUpdate::Refused(
                        self.get(
                            operation,
                            keys::phone_route_pk(pnid.as_str())?,
                            keys::ROUTE_SK,
                        )
                        .await?,
                    )),
                }
            }
            Err(err) => Err(crate::error::from_sdk(operation, err)),
        }
    }
}

/// `gsi1pk = T#{tenant}#PHONES`, `gsi1sk = {phone_number_id}`: the tenant's numbers.
fn tenant_index(tenant: &TenantId, pnid: &str) -> Result<Item, StoreError> {
    Ok(Item::from([
        (
            keys::GSI1PK.to_owned(),
            s(format!("{}PHONES", keys::tenant_prefix(tenant)?)),
        ),
        (keys::GSI1SK.to_owned(), s(pnid)),
    ]))
}

fn owner_mismatch(pnid: &PhoneNumberId, old: Option<Item>) -> StoreError {
    StoreError::PhoneRouteOwner {
        phone_number_id: pnid.clone(),
        current_owner: old
            .as_ref()
            .and_then(|item| string_attribute(item, TENANT_ID))
            .map(TenantId::from),
    }
}
