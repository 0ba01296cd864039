//! In-memory accounts and transactions (the read ports and the ledger audit), for use-case
//! tests that need no database. Not a DynamoDB stand-in: the money-moving `Ledger` is tested
//! against DynamoDB Local.

use crate::domain::{Account, CustomerId, LedgerEntry, Transaction, TransactionId};
use crate::ports::{AccountReader, LedgerAudit, StoreError, TransactionReader};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct MemoryStore {
    accounts: Mutex<HashMap<String, Account>>,
    transactions: Mutex<HashMap<String, Transaction>>,
    ledger: Mutex<HashMap<String, Vec<LedgerEntry>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put_account(&self, account: Account) {
        self.accounts
            .lock()
            .expect("accounts")
            .insert(account.customer_id.as_str().to_owned(), account);
    }
    pub fn put_transaction(&self, tx: Transaction) {
        self.transactions
            .lock()
            .expect("transactions")
            .insert(tx.id.as_str().to_owned(), tx);
    }
    pub fn push_ledger(&self, entry: LedgerEntry) {
        self.ledger
            .lock()
            .expect("ledger")
            .entry(entry.customer_id.clone())
            .or_default()
            .push(entry);
    }
}

#[async_trait]
impl AccountReader for MemoryStore {
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .expect("accounts")
            .get(customer.as_str())
            .cloned())
    }
}

#[async_trait]
impl TransactionReader for MemoryStore {
    async fn get_transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        Ok(self
            .transactions
            .lock()
            .expect("transactions")
            .get(id.as_str())
            .cloned())
    }
}

#[async_trait]
impl LedgerAudit for MemoryStore {
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .expect("accounts")
            .values()
            .cloned()
            .collect())
    }
    async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut entries = self
            .ledger
            .lock()
            .expect("ledger")
            .get(customer)
            .cloned()
            .unwrap_or_default();
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }
}
