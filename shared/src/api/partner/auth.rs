//! Partner authentication: `x-api-key` + `x-customer-id`, checked against the account's
//! hashed keys (see [`crate::domain::credentials`]).

use super::error::ApiError;
use crate::domain::credentials::key_matches;
use crate::domain::{Account, CustomerId};
use crate::ports::AccountReader;

/// The account the credentials belong to. Unknown customer, wrong key, another customer's
/// key and disabled accounts are all the same 401: nothing tells which part was wrong.
pub async fn authenticate(
    accounts: &dyn AccountReader,
    api_key: Option<&str>,
    customer_id: Option<&str>,
) -> Result<Account, ApiError> {
    let (Some(key), Some(customer)) = (
        api_key.map(str::trim).filter(|k| !k.is_empty()),
        customer_id.map(str::trim).filter(|c| !c.is_empty()),
    ) else {
        return Err(ApiError::MissingCredentials);
    };
    let customer = CustomerId::parse(customer).map_err(|_| ApiError::InvalidCredentials)?;
    let account = accounts
        .get_account(&customer)
        .await
        .map_err(|e| ApiError::ServiceUnavailable(e.to_string()))?
        .ok_or(ApiError::InvalidCredentials)?;
    if !key_matches(key, &account.api_key_hashes) || !account.active {
        return Err(ApiError::InvalidCredentials);
    }
    Ok(account)
}
