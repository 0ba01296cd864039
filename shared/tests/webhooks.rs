//! Webhooks end to end against DynamoDB Local: outcome events written with the outcome,
//! delivered signed (Standard Webhooks) to a local receiver, retried on the spec's schedule,
//! never lost (sweep), never doubled; balance.low once per crossing; SSRF guard; a hung
//! receiver slows nothing else.

mod common;

use async_trait::async_trait;
use chrono::Duration;
use common::*;
use relier::adapters::clock::{ManualClock, SystemClock};
use relier::adapters::dynamo::DynamoStore;
use relier::api::partner::request::parse_topup;
use relier::config::Mode;
use relier::domain::CustomerId;
use relier::domain::{Account, TxKind};
use relier::ports::{AccountReader, Clock, QueueError};
use relier::topup::Accepted;
use relier::webhooks::dispatch::{Dispatcher, Handled};
use relier::webhooks::queue::{DispatchMessage, DispatchQueue};
use relier::webhooks::sender::{AttemptResult, HttpSender, WebhookSender};
use relier::webhooks::signing::{verify, WebhookSecret};
use relier::webhooks::{DeliveryStatus, Endpoint, EventType, WebhookReader, WebhookStore};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// In-memory stand-in for the SQS dispatch queue (the queue is not the database; the
/// DynamoDB side is real). Records (message, delay) like SQS would deliver them.
#[derive(Default)]
struct MemQueue(Mutex<Vec<(DispatchMessage, i64)>>);

#[async_trait]
impl DispatchQueue for MemQueue {
    async fn send(&self, message: &DispatchMessage, delay_secs: i64) -> Result<(), QueueError> {
        self.0
            .lock()
            .unwrap()
            .push((message.clone(), delay_secs.clamp(0, 900)));
        Ok(())
    }
}

impl MemQueue {
    fn take(&self) -> Vec<(DispatchMessage, i64)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Env {
    store: Arc<DynamoStore>,
    queue: Arc<MemQueue>,
    clock: Arc<ManualClock>,
    dispatcher: Dispatcher,
}

/// GIVEN the seeds' partners, a store that pokes `queue` after outbox writes (unless
/// `poke` is false: a writer that dies before notifying), and a dispatcher.
async fn env_with(poke: bool, sender: Arc<dyn WebhookSender>) -> Env {
    let base = store().await;
    seed_partners(&base).await;
    let queue = Arc::new(MemQueue::default());
    let store = if poke {
        Arc::new((*base).clone().with_webhook_queue(queue.clone()))
    } else {
        base
    };
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let dispatcher = Dispatcher {
        store: store.clone(),
        queue: queue.clone(),
        sender,
        clock: clock.clone(),
    };
    Env {
        store,
        queue,
        clock,
        dispatcher,
    }
}

async fn env() -> Env {
    env_with(true, Arc::new(HttpSender::new(Mode::Sandbox))).await
}

impl Env {
    async fn endpoint(&self, customer: &str, url: &str) -> WebhookSecret {
        let (ep, secret) = Endpoint::new(customer, url, None, self.clock.now());
        self.store.put_endpoint(&ep).await.unwrap();
        secret
    }

    async fn account(&self, customer: &str) -> Account {
        self.store
            .get_account(&CustomerId::parse(customer).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    async fn sync_topup(&self, customer: &str, phone: &str) -> Value {
        let svc = service(&self.store, "18.52");
        let account = self.account(customer).await;
        let input = parse_topup(
            json!({"phone": phone, "amount": 20}).as_object().unwrap(),
            None,
        )
        .unwrap();
        let done = svc.topup_sync(&account, &input).await.unwrap();
        json!({"id": done.transaction.id.as_str(), "status": done.transaction.status.as_str()})
    }

    async fn async_topup(&self, customer: &str, phone: &str) -> String {
        let svc = service(&self.store, "18.52");
        let account = self.account(customer).await;
        let input = parse_topup(
            json!({"phone": phone, "amount": 20}).as_object().unwrap(),
            None,
        )
        .unwrap();
        let Accepted::New(tx) = svc.accept(&account, &input, TxKind::Async).await.unwrap() else {
            panic!("new top-up expected")
        };
        let body = relier::adapters::sqs::message_body(&tx.id);
        relier::jobs::worker::process_message(&body, self.store.as_ref(), &svc)
            .await
            .unwrap();
        tx.id.as_str().to_owned()
    }

    /// Deliver everything queued, moving the clock by each message's delay (as SQS would).
    async fn drain(&self) -> Vec<Handled> {
        let mut out = Vec::new();
        for _ in 0..500 {
            let batch = self.queue.take();
            if batch.is_empty() {
                return out;
            }
            for (msg, delay) in batch {
                self.clock.advance(Duration::seconds(delay));
                out.push(self.dispatcher.process(&msg).await.unwrap());
            }
        }
        panic!("queue never drained");
    }
}

/// Every request the receiver got, verified with the endpoint's secret: (id, body).
async fn verified(server: &MockServer, secret: &WebhookSecret) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for req in server.received_requests().await.unwrap() {
        let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
        let (id, ts, sig) = (
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
        );
        assert!(
            verify(secret, &id, ts.parse().unwrap(), &req.body, &sig),
            "signature of {id} does not verify"
        );
        assert_eq!(h("content-type"), "application/json");
        out.push((id, serde_json::from_slice(&req.body).unwrap()));
    }
    out
}

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn of_type<'a>(events: &'a [(String, Value)], t: &str) -> Vec<&'a (String, Value)> {
    events.iter().filter(|(_, b)| b["type"] == t).collect()
}

#[tokio::test]
async fn sync_and_async_outcomes_each_deliver_exactly_one_signed_event() {
    // GIVEN HAZ with an endpoint on a local receiver
    let env = env().await;
    let server = receiver(204).await;
    let secret = env
        .endpoint("HAZ_001", &format!("{}/hooks", server.uri()))
        .await;
    // WHEN a sync success, a sync failure, an async success and an async failure happen
    let ok = env.sync_topup("HAZ_001", "5500000000").await;
    let bad = env.sync_topup("HAZ_001", "5500000001").await;
    let ok_async = env.async_topup("HAZ_001", "5566374683").await;
    let bad_async = env.async_topup("HAZ_001", "5500000001").await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(bad["status"], "FAILED");
    env.drain().await;
    // a duplicate message (e.g. the sweep racing the poke) sends nothing twice
    for d in env.store.list_deliveries("HAZ_001", 50).await.unwrap() {
        let dup = DispatchMessage {
            customer_id: "HAZ_001".into(),
            event_id: d.event.id.clone(),
            attempts: 0,
        };
        assert_eq!(env.dispatcher.process(&dup).await.unwrap(), Handled::Stale);
        assert_eq!(d.status, DeliveryStatus::Delivered);
    }
    // THEN exactly one event per outcome, each verified, data = GET /api/transaction/{id}
    let events = verified(&server, &secret).await;
    assert_eq!(events.len(), 4, "{events:?}");
    let succeeded = of_type(&events, "topup.succeeded");
    let failed = of_type(&events, "topup.failed");
    let ids = |v: &[&(String, Value)]| {
        let mut ids: Vec<String> = v
            .iter()
            .map(|(_, b)| b["data"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let mut want_ok = vec![ok["id"].as_str().unwrap().to_owned(), ok_async.clone()];
    want_ok.sort();
    let mut want_bad = vec![bad["id"].as_str().unwrap().to_owned(), bad_async.clone()];
    want_bad.sort();
    assert_eq!(ids(&succeeded), want_ok);
    assert_eq!(ids(&failed), want_bad);
    // the payload is the transaction exactly as GET /api/transaction/{id} shows it
    use relier::ports::TransactionReader;
    for (_, body) in &events {
        let id =
            relier::domain::TransactionId::parse(body["data"]["id"].as_str().unwrap()).unwrap();
        let tx = env.store.get_transaction(&id).await.unwrap().unwrap();
        assert_eq!(
            body["data"],
            relier::api::partner::views::transaction_status(&tx)["transaction"],
            "event payload differs from GET"
        );
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(failed[0].1["data"]["status"], "FAILED");
    assert!(failed[0].1["data"]["error"].is_string());
    assert_ledger_ok(&env.store).await;
}

#[tokio::test]
async fn a_receiver_answering_500_twice_gets_the_third_attempt_with_the_same_id() {
    let env = env().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    let secret = env.endpoint("HAZ_001", &server.uri()).await;
    let start = env.clock.now();
    env.sync_topup("HAZ_001", "5500000000").await;
    let handled = env.drain().await;
    assert_eq!(
        handled,
        [Handled::Retrying, Handled::Retrying, Handled::Delivered]
    );
    let events = verified(&server, &secret).await;
    assert_eq!(events.len(), 3);
    assert!(
        events.iter().all(|(id, _)| *id == events[0].0),
        "webhook-id is stable"
    );
    // immediately, then 5 s, then 5 min later
    assert_eq!((env.clock.now() - start).num_seconds(), 5 + 300);
    let d = &env.store.list_deliveries("HAZ_001", 10).await.unwrap()[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 3));
    assert_eq!(d.last_result.as_deref(), Some("HTTP 200"));
}

#[tokio::test]
async fn a_dead_endpoint_gets_the_whole_schedule_then_failed_and_replay_sends_again() {
    let env = env().await;
    let server = receiver(503).await;
    env.endpoint("HAZ_001", &server.uri()).await;
    let start = env.clock.now();
    env.sync_topup("HAZ_001", "5500000000").await;
    env.drain().await;
    // 8 attempts over immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (waits > 15 min
    // are chains of re-delayed SQS messages)
    assert_eq!(server.received_requests().await.unwrap().len(), 8);
    assert_eq!(
        (env.clock.now() - start).num_seconds(),
        5 + 300 + 1800 + 7200 + 18000 + 36000 + 36000
    );
    let d = env.store.list_deliveries("HAZ_001", 10).await.unwrap()[0].clone();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 8));
    assert!(env
        .store
        .due(env.clock.now() + Duration::days(1), 10)
        .await
        .unwrap()
        .is_empty());
    // WHEN ops replays it after fixing the receiver THEN it is sent again, same id
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    assert!(env
        .store
        .reset_delivery("HAZ_001", &d.event.id, env.clock.now())
        .await
        .unwrap());
    env.dispatcher
        .enqueue("HAZ_001", &d.event.id)
        .await
        .unwrap();
    env.drain().await;
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].headers.get("webhook-id").unwrap().to_str().unwrap(),
        d.event.id
    );
}

#[tokio::test]
async fn a_crash_between_settling_and_dispatch_still_delivers() {
    // GIVEN a writer that dies right after its transaction commits (it never pokes the queue)
    let env = env_with(false, Arc::new(HttpSender::new(Mode::Sandbox))).await;
    let server = receiver(200).await;
    let secret = env.endpoint("HAZ_001", &server.uri()).await;
    env.sync_topup("HAZ_001", "5500000000").await;
    assert!(env.queue.take().is_empty(), "nothing was poked");
    // WHEN the scheduled sweep runs
    env.clock.advance(Duration::seconds(1));
    let report = env.dispatcher.sweep(100).await.unwrap();
    assert_eq!(report.requeued, 1);
    env.drain().await;
    // THEN the outbox event is delivered, once
    let events = verified(&server, &secret).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["type"], "topup.succeeded");
    assert_eq!(env.dispatcher.sweep(100).await.unwrap().requeued, 0);
}

#[tokio::test]
async fn a_dispatcher_dying_mid_attempt_is_retried_after_its_lease() {
    let env = env().await;
    let server = receiver(200).await;
    env.endpoint("HAZ_001", &server.uri()).await;
    env.sync_topup("HAZ_001", "5500000000").await;
    let (msg, _) = env.queue.take().remove(0);
    // a dispatcher claimed attempt 1 and died before sending
    assert!(env
        .store
        .claim_attempt(
            "HAZ_001",
            &msg.event_id,
            0,
            env.clock.now() + Duration::seconds(60)
        )
        .await
        .unwrap());
    assert_eq!(
        env.dispatcher.sweep(100).await.unwrap().requeued,
        0,
        "leased"
    );
    env.clock.advance(Duration::seconds(61));
    assert_eq!(env.dispatcher.sweep(100).await.unwrap().requeued, 1);
    env.drain().await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn balance_low_fires_once_per_crossing_and_rearms_when_funded() {
    let env = env().await;
    let server = receiver(200).await;
    let secret = env.endpoint("LOW_001", &server.uri()).await;
    // GIVEN an account 2 USD above a 10 USD threshold
    let mut spec = AccountSpec::new("LOW_001", "low_key_0123456789abcdef", "12");
    spec.commission = "0";
    put(&env.store, spec).await;
    let mut account = env.account("LOW_001").await;
    account.low_balance_usd = Some(dec("10"));
    env.store.put_account(&account, false).await.unwrap();
    // WHEN three 1.08 USD top-ups take it from 12 to 8.76
    for _ in 0..3 {
        env.sync_topup("LOW_001", "5500000000").await;
    }
    env.drain().await;
    // THEN balance.low fired once (on the debit that crossed: 10.92 -> 9.84)
    let events = verified(&server, &secret).await;
    let low = of_type(&events, "balance.low");
    assert_eq!(low.len(), 1, "{events:?}");
    assert_eq!(low[0].1["data"]["current_balance"], json!(9.84));
    assert_eq!(low[0].1["data"]["threshold"], json!(10));
    assert!(env.account("LOW_001").await.low_balance_alerted);
    // WHEN ops credits it back above the threshold (re-armed) THEN balance.credited is sent
    let done = relier::ops::balance::apply(
        env.store.as_ref(),
        &relier::ops::Actor("local:test".into()),
        relier::ops::balance::ChangeRequest {
            customer: "LOW_001",
            kind: relier::ops::ports::BalanceChangeKind::Credit,
            amount_usd: "1.74",
            reference: "WIRE-1",
            note: None,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        done,
        relier::ops::balance::ChangeDone::Applied { .. }
    ));
    assert!(
        !env.account("LOW_001").await.low_balance_alerted,
        "re-armed"
    );
    env.drain().await;
    let events = verified(&server, &secret).await;
    let credited = of_type(&events, "balance.credited");
    assert_eq!(credited.len(), 1, "{events:?}");
    assert_eq!(credited[0].1["data"]["amount"], json!(1.74));
    assert_eq!(credited[0].1["data"]["current_balance"], json!(10.5));
    assert_eq!(credited[0].1["data"]["reference"], "WIRE-1");
    // AND the next debit below the threshold alerts again, once
    env.sync_topup("LOW_001", "5500000000").await;
    env.sync_topup("LOW_001", "5500000000").await;
    env.drain().await;
    let events = verified(&server, &secret).await;
    assert_eq!(of_type(&events, "balance.low").len(), 2);
    assert_ledger_ok(&env.store).await;
}

#[tokio::test]
async fn a_private_address_is_refused_in_production() {
    let sender = HttpSender::new(Mode::Production);
    let server = receiver(200).await; // listens on 127.0.0.1
    for url in [
        server.uri(),                                // http, loopback
        server.uri().replace("http://", "https://"), // https, loopback
        "https://10.0.0.7/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://localhost/hook".to_owned(), // resolves to loopback
    ] {
        let got = sender.post(&url, &[], "{}").await;
        assert!(matches!(got, AttemptResult::Refused(_)), "{url}: {got:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // and a PRODUCTION dispatcher records the refusal as a failed attempt, never sending
    let env = env_with(true, Arc::new(HttpSender::new(Mode::Production))).await;
    env.endpoint("HAZ_001", &server.uri()).await;
    env.sync_topup("HAZ_001", "5500000000").await;
    let msgs = env.queue.take();
    assert_eq!(
        env.dispatcher.process(&msgs[0].0).await.unwrap(),
        Handled::Retrying
    );
    let d = &env.store.list_deliveries("HAZ_001", 1).await.unwrap()[0];
    assert!(
        d.last_result.as_deref().unwrap().starts_with("refused"),
        "{d:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_endpoint_answering_410_is_disabled() {
    let env = env().await;
    let server = receiver(410).await;
    env.endpoint("HAZ_001", &server.uri()).await;
    env.sync_topup("HAZ_001", "5500000000").await;
    env.sync_topup("HAZ_001", "5500000000").await;
    let handled = env.drain().await;
    assert!(
        handled.contains(&Handled::Failed) && handled.contains(&Handled::Skipped),
        "{handled:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let ep = env.store.get_endpoint("HAZ_001").await.unwrap().unwrap();
    assert!(ep.disabled_reason.is_some());
}

#[tokio::test]
async fn a_hung_receiver_slows_neither_top_ups_nor_other_partners() {
    // GIVEN HAZ's receiver hangs (30 s), SmartBiz's answers at once; attempts time out
    // after 6 s (15 s in production)
    let sender = HttpSender {
        mode: Mode::Sandbox,
        timeout: std::time::Duration::from_secs(6),
    };
    let env = env_with(true, Arc::new(sender)).await;
    let hung = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(30)))
        .mount(&hung)
        .await;
    let fast = receiver(200).await;
    env.endpoint("HAZ_001", &hung.uri()).await;
    env.endpoint("SMARTBIZ_001", &fast.uri()).await;
    // WHEN both top up THEN the top-ups never wait for a receiver
    let started = Instant::now();
    env.sync_topup("HAZ_001", "5500000000").await;
    env.sync_topup("SMARTBIZ_001", "5500000000").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // AND one batch with both deliveries: SmartBiz's is not held up by HAZ's
    let records: Vec<_> = env
        .queue
        .take()
        .into_iter()
        .enumerate()
        .map(|(i, (m, _))| {
            let mut r = aws_lambda_events::event::sqs::SqsMessage::default();
            r.message_id = Some(format!("m{i}"));
            r.body = Some(serde_json::to_string(&m).unwrap());
            r
        })
        .collect();
    assert_eq!(records.len(), 3, "two outcomes + SmartBiz's balance.low");
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = records;
    let started = Instant::now();
    let dispatch = env.dispatcher.handle_batch(event);
    let watch_fast = async {
        while fast.received_requests().await.unwrap().len() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        started.elapsed()
    };
    let (resp, fast_done) = tokio::join!(dispatch, watch_fast);
    assert!(resp.batch_item_failures.is_empty());
    assert!(
        fast_done < std::time::Duration::from_secs(5),
        "{fast_done:?}"
    );
    // the hung attempt gave up at its timeout (not the receiver's 30 s) and is scheduled again
    let total = started.elapsed();
    assert!(
        total >= std::time::Duration::from_secs(6) && total < std::time::Duration::from_secs(20),
        "{total:?}"
    );
    let d = &env.store.list_deliveries("HAZ_001", 1).await.unwrap()[0];
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.last_result.as_deref(), Some("error: timed out"));
}

#[tokio::test]
async fn subscriptions_and_missing_endpoints_skip_without_sending() {
    let env = env().await;
    let server = receiver(200).await;
    // no endpoint yet: the event is recorded and skipped
    env.sync_topup("HAZ_001", "5500000000").await;
    assert_eq!(env.drain().await, [Handled::Skipped]);
    // subscribed to failures only: a success is skipped, a failure sent
    let (mut ep, secret) = Endpoint::new("HAZ_001", &server.uri(), None, env.clock.now());
    ep.events = Some(vec![EventType::TopupFailed]);
    env.store.put_endpoint(&ep).await.unwrap();
    env.sync_topup("HAZ_001", "5500000000").await;
    env.sync_topup("HAZ_001", "5500000001").await;
    env.drain().await;
    let events = verified(&server, &secret).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["type"], "topup.failed");
    let _ = SystemClock.now();
}

#[tokio::test]
async fn an_endpoint_change_is_audited_with_it_and_the_audit_never_holds_a_secret() {
    use relier::ops::ports::AdminStore;
    use relier::ops::{Actor, AuditRecord};
    // GIVEN a partner without an endpoint
    let env = env().await;
    let now = env.clock.now();
    let (ep, secret) = Endpoint::new("HAZ_001", "https://partner.example/hooks", None, now);
    // WHEN ops set it, then rotate its secret, each with its audit record
    let actor = Actor("local:ops".into());
    let set = AuditRecord::new(
        "HAZ_001",
        &actor,
        "webhook.set",
        Value::Null,
        ep.audit_view(),
        now,
    );
    env.store.put_endpoint_audited(&ep, &set).await.unwrap();
    let mut rotated = ep.clone();
    let new_secret = rotated.rotate(now);
    let rot = AuditRecord::new(
        "HAZ_001",
        &actor,
        "webhook.rotate_secret",
        ep.audit_view(),
        rotated.audit_view(),
        now,
    );
    env.store
        .put_endpoint_audited(&rotated, &rot)
        .await
        .unwrap();
    // THEN the endpoint is stored and both changes are in the partner's audit trail
    let stored = env.store.get_endpoint("HAZ_001").await.unwrap().unwrap();
    assert_eq!(stored.keys.len(), 2);
    let trail = env.store.audit_records("HAZ_001").await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"webhook.set") && actions.contains(&"webhook.rotate_secret"));
    let last = trail
        .iter()
        .find(|r| r.action == "webhook.rotate_secret")
        .unwrap();
    assert_eq!(last.after["signing_secrets"], 2);
    assert_eq!(last.after["url"], "https://partner.example/hooks");
    // AND no secret appears anywhere in it
    let text = format!("{trail:?}");
    for s in [secret.expose(), new_secret.expose()] {
        assert!(!text.contains(s.trim_start_matches("whsec_")));
    }
    assert!(!text.contains("whsec_"));
}
