//! `--stack NAME`: the stack's outputs (CloudFormation DescribeStacks), mapped to settings by
//! `relier::ops::stack`.

use relier::ops::stack::StackSettings;
use std::collections::HashMap;

pub async fn read(sdk: &aws_config::SdkConfig, stack: &str) -> anyhow::Result<StackSettings> {
    let out = aws_sdk_cloudformation::Client::new(sdk)
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            let missing = e
                .as_service_error()
                .and_then(|se| se.meta().message())
                .is_some_and(|m| m.contains("does not exist"));
            if missing {
                anyhow::anyhow!(
                    "stack {stack} does not exist in {} (check --stack and AWS_REGION)",
                    sdk.region()
                        .map(|r| r.as_ref())
                        .unwrap_or("the default region")
                )
            } else {
                anyhow::anyhow!(
                    "cannot read stack {stack} (cloudformation:DescribeStacks): {}",
                    aws_sdk_cloudformation::error::DisplayErrorContext(e)
                )
            }
        })?;
    let found = out
        .stacks()
        .first()
        .ok_or_else(|| anyhow::anyhow!("stack {stack} does not exist"))?;
    let outputs: HashMap<String, String> = found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    StackSettings::from_outputs(stack, &outputs).map_err(anyhow::Error::msg)
}
