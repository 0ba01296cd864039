//! Adapters: the ports implemented on real infrastructure (DynamoDB, SQS, Secrets Manager,
//! Reloadly), the sandbox provider, the failover chain and clocks.

pub mod clock;
pub mod dynamo;
pub mod failover;
pub mod reloadly;
pub mod sandbox;
pub mod secrets;
pub mod select;
pub mod sqs;
