//! Ledger audit and fixture writes (the ledger check, load-fixtures): never on a request path.

use super::codec::{account_item, corrupt, get_dec, get_s, parse_account, s, unavailable};
use super::pages::Page;
use super::parts::is_conditional_failure;
use super::DynamoStore;
use crate::domain::{Account, LedgerEntry};
use crate::ports::{LedgerAudit, StoreError};
use async_trait::async_trait;

impl DynamoStore {
    /// Create or replace an account (admin / fixtures only; never on a request path).
    /// With `only_if_absent`, an existing account is left untouched.
    pub async fn put_account(
        &self,
        account: &Account,
        only_if_absent: bool,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(account_item(account)));
        if only_if_absent {
            req = req.condition_expression("attribute_not_exists(pk)");
        }
        self.write();
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Every account (admin only: a scan, never on a request path).
    pub async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.all_pages(|start| {
            let scan = self
                .client
                .scan()
                .table_name(&self.accounts_table)
                .filter_expression("sk = :sk")
                .expression_attribute_values(":sk", s("ACCOUNT"))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            async move { scan.send().await.map(Page::from).map_err(unavailable) }
        })
        .await?
        .iter()
        .map(parse_account)
        .collect()
    }

    /// An account's ledger, in sequence order.
    pub async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let items = self
            .all_pages(|start| {
                let query = self
                    .client
                    .query()
                    .table_name(&self.accounts_table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(format!("LEDGER#{customer}")))
                    .consistent_read(true)
                    .set_exclusive_start_key(start);
                async move { query.send().await.map(Page::from).map_err(unavailable) }
            })
            .await?;
        let mut out = items
            .iter()
            .map(|item| {
                Ok(LedgerEntry {
                    customer_id: customer.to_owned(),
                    seq: get_dec(item, "seq")?
                        .try_into()
                        .map_err(|_| corrupt("seq"))?,
                    transaction_id: get_s(item, "transaction_id")?,
                    kind: get_s(item, "kind")?,
                    delta: get_dec(item, "delta")?,
                    balance_before: get_dec(item, "balance_before")?,
                    balance_after: get_dec(item, "balance_after")?,
                    at: get_s(item, "at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }
}

#[async_trait]
impl LedgerAudit for DynamoStore {
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        DynamoStore::list_accounts(self).await
    }
    async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        DynamoStore::ledger_entries(self, customer).await
    }
}
