//! API Gateway API keys and usage plans with the AWS SDK (the `GatewayKeys` port of
//! `relier::ops::gateway`). Endpoint: the normal AWS one, or `AWS_ENDPOINT_URL_API_GATEWAY`
//! (moto in tests).

use async_trait::async_trait;
use aws_sdk_apigateway::error::DisplayErrorContext;
use relier::ops::gateway::{GatewayKey, GatewayKeys};

pub struct ApiGateway(pub aws_sdk_apigateway::Client);

fn reason<E: std::error::Error + Send + Sync + 'static>(e: E) -> String {
    DisplayErrorContext(e).to_string().replace('\n', " ")
}

#[async_trait]
impl GatewayKeys for ApiGateway {
    async fn check_plan(&self, usage_plan_id: &str) -> Result<(), String> {
        self.0
            .get_usage_plan()
            .usage_plan_id(usage_plan_id)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_not_found_exception() => "no such usage plan".to_owned(),
                _ => reason(e),
            })?;
        Ok(())
    }

    async fn create_key(&self, name: &str, value: &str, customer: &str) -> Result<String, String> {
        let out = self
            .0
            .create_api_key()
            .name(name)
            .value(value)
            .enabled(true)
            .description(format!("Relier partner {customer} (relier-admin)"))
            .tags("customer_id", customer)
            .send()
            .await
            .map_err(reason)?;
        out.id()
            .map(str::to_owned)
            .ok_or_else(|| "API Gateway returned no key id".to_owned())
    }

    async fn attach(&self, usage_plan_id: &str, key_id: &str) -> Result<(), String> {
        self.0
            .create_usage_plan_key()
            .usage_plan_id(usage_plan_id)
            .key_id(key_id)
            .key_type("API_KEY")
            .send()
            .await
            .map_err(reason)?;
        Ok(())
    }

    async fn find_keys(&self, name_prefix: &str) -> Result<Vec<GatewayKey>, String> {
        let mut keys = Vec::new();
        let mut position: Option<String> = None;
        loop {
            let out = self
                .0
                .get_api_keys()
                .name_query(name_prefix)
                .limit(500)
                .set_position(position.take())
                .send()
                .await
                .map_err(reason)?;
            keys.extend(out.items().iter().filter_map(|k| {
                Some(GatewayKey {
                    id: k.id()?.to_owned(),
                    name: k.name()?.to_owned(),
                })
            }));
            match out.position() {
                Some(p) if !p.is_empty() => position = Some(p.to_owned()),
                _ => break,
            }
        }
        Ok(keys
            .into_iter()
            .filter(|k| k.name.starts_with(name_prefix))
            .collect())
    }

    async fn delete_key(&self, key_id: &str) -> Result<(), String> {
        self.0
            .delete_api_key()
            .api_key(key_id)
            .send()
            .await
            .map_err(reason)?;
        Ok(())
    }
}
