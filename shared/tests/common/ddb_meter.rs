//! A DynamoDB client interceptor that counts what goes over the wire: every attempt of every
//! operation (retries included), which reads are strongly consistent, and, with
//! `with_capacity`, the capacity DynamoDB reports (`ReturnConsumedCapacity=TOTAL` is added to
//! each request body before signing). Used by the call-budget test and `make bench-sync`.
#![allow(dead_code)]

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    get_item::GetItemOutput, put_item::PutItemOutput, query::QueryOutput,
    transact_write_items::TransactWriteItemsOutput, update_item::UpdateItemOutput,
};
use aws_sdk_dynamodb::types::ConsumedCapacity;
use aws_smithy_types::body::SdkBody;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What was counted since the last `take`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Attempts per operation name (`GetItem`, `TransactWriteItems`, ...).
    pub calls: BTreeMap<String, u64>,
    /// Reads sent with `ConsistentRead: true`.
    pub consistent_reads: u64,
    /// Capacity units DynamoDB reported (only with `with_capacity`).
    pub read_units: f64,
    pub write_units: f64,
}

const WRITES: [&str; 6] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
    "ExecuteTransaction",
];

impl Tally {
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
    pub fn write_calls(&self) -> u64 {
        WRITES
            .iter()
            .map(|op| self.calls.get(*op).copied().unwrap_or(0))
            .sum()
    }
    pub fn read_calls(&self) -> u64 {
        self.total_calls() - self.write_calls()
    }
}

#[derive(Debug, Clone, Default)]
pub struct DdbMeter {
    tally: Arc<Mutex<Tally>>,
    capacity: bool,
}

impl DdbMeter {
    pub fn new() -> Self {
        Self::default()
    }
    /// Also ask DynamoDB for the consumed capacity of every call.
    pub fn with_capacity() -> Self {
        Self {
            capacity: true,
            ..Self::default()
        }
    }
    /// The counts so far; resets them.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.tally.lock().unwrap())
    }
    /// A DynamoDB client on `sdk` with this meter installed.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(self.clone())
                .build(),
        )
    }
}

impl Intercept for DdbMeter {
    fn name(&self) -> &'static str {
        "DdbMeter"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let op = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("unknown")
            .to_owned();
        let mut body: serde_json::Value = match request.body().bytes() {
            Some(bytes) => serde_json::from_slice(bytes)?,
            None => serde_json::Value::Null,
        };
        {
            let mut tally = self.tally.lock().unwrap();
            *tally.calls.entry(op).or_default() += 1;
            if body.get("ConsistentRead") == Some(&serde_json::Value::Bool(true)) {
                tally.consistent_reads += 1;
            }
        }
        if self.capacity {
            if let Some(obj) = body.as_object_mut() {
                obj.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
                let bytes = serde_json::to_vec(&body)?;
                request
                    .headers_mut()
                    .insert("content-length", bytes.len().to_string());
                *request.body_mut() = SdkBody::from(bytes);
            }
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let consumed: Vec<ConsumedCapacity> =
            if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
                o.consumed_capacity().to_vec()
            } else if let Some(o) = output.downcast_ref::<GetItemOutput>() {
                o.consumed_capacity().cloned().into_iter().collect()
            } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
                o.consumed_capacity().cloned().into_iter().collect()
            } else if let Some(o) = output.downcast_ref::<PutItemOutput>() {
                o.consumed_capacity().cloned().into_iter().collect()
            } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
                o.consumed_capacity().cloned().into_iter().collect()
            } else {
                Vec::new()
            };
        let mut tally = self.tally.lock().unwrap();
        for c in consumed {
            let total = c.capacity_units().unwrap_or(0.0);
            match (c.read_capacity_units(), c.write_capacity_units()) {
                (Some(r), Some(w)) => {
                    tally.read_units += r;
                    tally.write_units += w;
                }
                (Some(r), None) => tally.read_units += r,
                (None, Some(w)) => tally.write_units += w,
                // DynamoDB reports only the total for single-item calls: reads are reads.
                (None, None) => {
                    if output.downcast_ref::<GetItemOutput>().is_some()
                        || output.downcast_ref::<QueryOutput>().is_some()
                    {
                        tally.read_units += total;
                    } else {
                        tally.write_units += total;
                    }
                }
            }
        }
        Ok(())
    }
}
