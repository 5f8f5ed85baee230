//! Which tenant a business phone number belongs to. Global: a webhook names only the phone
//! number, and this is how its tenant is found.

use crate::error::StoreError;
use crate::item::{from_item, keyed, s};
use crate::keys;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::{PhoneNumberId, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneRoute {
    pub phone_number_id: PhoneNumberId,
    pub tenant_id: TenantId,
    pub waba_id: String,
    pub display_phone_number: String,
}

impl Store {
    /// Creates or replaces the route: a number re-onboarded by another tenant moves with it.
    /// Also indexed under the tenant (gsi1) so a tenant's numbers can be listed.
    pub async fn put_phone_route(&self, route: &PhoneRoute) -> Result<(), StoreError> {
        let mut item = keyed(
            route,
            "phone_route",
            keys::phone_route_pk(route.phone_number_id.as_str())?,
            keys::ROUTE_SK,
        )?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(format!("{}PHONES", keys::tenant_prefix(&route.tenant_id)?)),
        );
        item.insert(keys::GSI1SK.to_owned(), s(route.phone_number_id.as_str()));
        self.put("put_phone_route", item).await
    }

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
}
