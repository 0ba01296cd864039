//! Point reads (strongly consistent) and the rate item.

use super::codec::{
    get_dec, get_time, n, opt_s, parse_account, parse_transaction, s, ts, unavailable,
};
use super::keys::{account_pk, pk_sk, tx_key, RATE_PK};
use super::DynamoStore;
use crate::domain::{Account, CustomerId, RateRecord, Transaction, TransactionId};
use crate::ports::{AccountReader, RateReader, RateWriter, StoreError, TransactionReader};
use async_trait::async_trait;

#[async_trait]
impl AccountReader for DynamoStore {
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError> {
        self.get_item(
            &self.accounts_table,
            pk_sk(&account_pk(customer.as_str()), "ACCOUNT"),
        )
        .await?
        .map(|item| parse_account(&item))
        .transpose()
    }
}

#[async_trait]
impl TransactionReader for DynamoStore {
    async fn get_transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        self.get_item(&self.transactions_table, tx_key(id))
            .await?
            .map(|item| parse_transaction(&item))
            .transpose()
    }
}

#[async_trait]
impl RateReader for DynamoStore {
    async fn get_rate(&self) -> Result<Option<RateRecord>, StoreError> {
        let Some(item) = self
            .get_item(&self.accounts_table, pk_sk(RATE_PK, "CURRENT"))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(RateRecord {
            rate: get_dec(&item, "rate")?,
            updated_at: get_time(&item, "updated_at")?,
            source: opt_s(&item, "source")?.unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl RateWriter for DynamoStore {
    async fn put_rate(&self, rate: &RateRecord) -> Result<(), StoreError> {
        let mut item = pk_sk(RATE_PK, "CURRENT");
        item.insert("rate".into(), n(rate.rate));
        item.insert("updated_at".into(), ts(rate.updated_at));
        item.insert("source".into(), s(&rate.source));
        self.write();
        self.client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
