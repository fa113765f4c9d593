//! The store suite: every store function against a real database. `scripts/test` runs it on
//! SQLite and again on PostgreSQL (`SPORTELLO_TEST_PG_URL`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, TestDb, backend_name};
use sportello_core::tenant::IstatCode;
use sportello_server::clock::now_ms;
use sportello_server::db::Db;
use sportello_server::identity::store::{self, LoginAttempt, Rotation};
use sportello_server::tenant;

async fn migrated() -> (TestDb, Db) {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    tenant::Municipalities::load(&db).await.unwrap();
    (test_db, db)
}

#[tokio::test]
async fn migrations_and_reference_data_are_idempotent() {
    let (test_db, db) = migrated().await;
    assert_eq!(db.backend().as_str(), backend_name());
    // A second start (or a second instance) migrates and loads again without harm.
    let again = test_db.connect().await;
    tenant::Municipalities::load(&again).await.unwrap();
    assert_eq!(tenant::store::list(&db).await.unwrap().len(), 67);
}

#[tokio::test]
async fn municipalities_round_trip() {
    let (_t, db) = migrated().await;
    let all = tenant::store::list(&db).await.unwrap();
    let names: Vec<_> = all.iter().map(|m| m.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ordered by name");
    let genova = tenant::store::get(&db, &IstatCode::parse("010025").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(genova, tenant::reference_municipalities().unwrap()[24]);
    assert_eq!(
        genova.postal_codes.len(),
        tenant::reference_municipalities().unwrap()[24].postal_codes.len()
    );
    assert!(
        tenant::store::get(&db, &IstatCode::parse("099999").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn users_keep_their_id_and_names_across_logins() {
    let (_t, db) = migrated().await;
    let first = store::upsert_user(&db, CITIZEN, Some("Mario"), Some("Rossi"))
        .await
        .unwrap();
    let again = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(again.given_name.as_deref(), Some("Mario"));
    let renamed = store::upsert_user(&db, CITIZEN, Some("Mario Luigi"), None)
        .await
        .unwrap();
    assert_eq!(renamed.given_name.as_deref(), Some("Mario Luigi"));
    assert_eq!(renamed.family_name.as_deref(), Some("Rossi"));
    let fetched = store::get_user(&db, &first.id).await.unwrap().unwrap();
    assert_eq!(fetched.fiscal_code, CITIZEN);
    assert!(store::get_user(&db, "nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn grants_are_scoped_by_municipality() {
    let (_t, db) = migrated().await;
    assert!(
        store::grant_role(
            &db,
            GENOVA_OPERATOR,
            "operator:010025:permits",
            Some("010025"),
            "cli"
        )
        .await
        .unwrap()
    );
    assert!(
        !store::grant_role(
            &db,
            GENOVA_OPERATOR,
            "operator:010025:permits",
            Some("010025"),
            "cli"
        )
        .await
        .unwrap()
    );
    store::grant_role(
        &db,
        ARENZANO_OPERATOR,
        "operator:010001:permits",
        Some("010001"),
        "cli",
    )
    .await
    .unwrap();
    store::grant_role(&db, ADMIN, "admin", None, "cli").await.unwrap();

    let genova = store::list_grants(&db, Some("010025"), 100).await.unwrap();
    assert_eq!(genova.len(), 1);
    assert_eq!(genova[0].fiscal_code, GENOVA_OPERATOR);
    assert_eq!(store::list_grants(&db, None, 100).await.unwrap().len(), 3);
    assert_eq!(
        store::list_grants(&db, None, 2).await.unwrap().len(),
        2,
        "limit applies"
    );
    assert_eq!(
        store::granted_roles(&db, GENOVA_OPERATOR).await.unwrap(),
        vec!["operator:010025:permits"]
    );

    assert!(
        store::revoke_role(&db, GENOVA_OPERATOR, "operator:010025:permits")
            .await
            .unwrap()
    );
    assert!(
        !store::revoke_role(&db, GENOVA_OPERATOR, "operator:010025:permits")
            .await
            .unwrap()
    );
    assert!(
        store::granted_roles(&db, GENOVA_OPERATOR)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn grants_reference_existing_municipalities() {
    let (_t, db) = migrated().await;
    let result = store::grant_role(
        &db,
        GENOVA_OPERATOR,
        "operator:099999:permits",
        Some("099999"),
        "cli",
    )
    .await;
    assert!(result.is_err(), "foreign key to municipalities");
}

/// A citizen's session of an ordinary login.
fn session_of(user_id: &str) -> store::NewSession<'_> {
    store::NewSession {
        user_id,
        dev_roles: None,
        provider_session: None,
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_replay_revokes_the_session() {
    let (_t, db) = migrated().await;
    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    let later = now_ms() + 60_000;
    let session = store::create_session(&db, &session_of(&user.id), "h1", later)
        .await
        .unwrap();
    assert!(store::session_active(&db, &session).await.unwrap());

    match store::rotate_refresh_token(&db, "h1", "h2", later).await.unwrap() {
        Rotation::Rotated {
            user_id,
            family_id,
            dev_roles,
        } => {
            assert_eq!(
                (user_id, family_id, dev_roles),
                (user.id.clone(), session.clone(), None)
            );
        }
        other => panic!("expected rotation, got {other:?}"),
    }
    // The old token again: a replay. The whole session dies, including the successor.
    assert!(matches!(
        store::rotate_refresh_token(&db, "h1", "h3", later).await.unwrap(),
        Rotation::Replayed
    ));
    assert!(!store::session_active(&db, &session).await.unwrap());
    assert!(matches!(
        store::rotate_refresh_token(&db, "h2", "h4", later).await.unwrap(),
        Rotation::Invalid
    ));
    assert!(matches!(
        store::rotate_refresh_token(&db, "unknown", "h5", later)
            .await
            .unwrap(),
        Rotation::Invalid
    ));
}

#[tokio::test]
async fn expired_refresh_tokens_are_refused() {
    let (_t, db) = migrated().await;
    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    store::create_session(
        &db,
        &store::NewSession {
            user_id: &user.id,
            dev_roles: Some("citizen"),
            provider_session: None,
        },
        "old",
        now_ms() - 1,
    )
    .await
    .unwrap();
    assert!(matches!(
        store::rotate_refresh_token(&db, "old", "new", now_ms())
            .await
            .unwrap(),
        Rotation::Invalid
    ));
}

#[tokio::test]
async fn concurrent_use_of_one_refresh_token_rotates_exactly_once() {
    let (_t, db) = migrated().await;
    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    let later = now_ms() + 60_000;
    store::create_session(&db, &session_of(&user.id), "shared", later)
        .await
        .unwrap();
    let attempts = (0..8).map(|i| {
        let db = db.clone();
        tokio::spawn(
            async move { store::rotate_refresh_token(&db, "shared", &format!("next{i}"), later).await },
        )
    });
    let mut rotated = 0;
    for attempt in attempts {
        // SQLite may report a busy database under contention; that is a refusal, not a rotation.
        if let Ok(Rotation::Rotated { .. }) = attempt.await.unwrap() {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let (_t, db) = migrated().await;
    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    let session = store::create_session(&db, &session_of(&user.id), "t", now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(
        store::revoke_session_of(&db, "t").await.unwrap(),
        Some(store::EndedSession {
            provider_session: None
        })
    );
    assert_eq!(
        store::revoke_session_of(&db, "t").await.unwrap(),
        None,
        "already revoked"
    );
    assert!(!store::session_active(&db, &session).await.unwrap());
    assert_eq!(store::revoke_session_of(&db, "unknown").await.unwrap(), None);

    // A federated login's session names the provider's tokens to revoke when it ends.
    let federated = store::NewSession {
        user_id: &user.id,
        dev_roles: None,
        provider_session: Some("ps-1"),
    };
    store::create_session(&db, &federated, "f", now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(
        store::revoke_session_of(&db, "f").await.unwrap(),
        Some(store::EndedSession {
            provider_session: Some("ps-1".to_owned())
        })
    );
}

#[tokio::test]
async fn login_attempts_and_codes_are_single_use() {
    let (_t, db) = migrated().await;
    let attempt = LoginAttempt {
        state: "s1".into(),
        provider: "cie".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        app_redirect_uri: "it.genova.sportello://auth".into(),
        app_state: None,
        app_code_challenge: "c".into(),
        expires_at: now_ms() + 60_000,
    };
    store::insert_login_attempt(&db, &attempt).await.unwrap();
    let taken = store::take_login_attempt(&db, "s1").await.unwrap().unwrap();
    assert_eq!((taken.provider.as_str(), taken.app_state), ("cie", None));
    assert!(store::take_login_attempt(&db, "s1").await.unwrap().is_none());

    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    store::insert_authorization_code(
        &db,
        "code",
        &user.id,
        "challenge",
        now_ms() + 60_000,
        Some("ps-1"),
    )
    .await
    .unwrap();
    assert_eq!(
        store::take_authorization_code(&db, "code").await.unwrap(),
        Some(store::TakenCode {
            user_id: user.id.clone(),
            code_challenge: "challenge".to_owned(),
            provider_session: Some("ps-1".to_owned()),
        })
    );
    assert_eq!(store::take_authorization_code(&db, "code").await.unwrap(), None);
    store::insert_authorization_code(&db, "stale", &user.id, "challenge", now_ms() - 1, None)
        .await
        .unwrap();
    assert_eq!(store::take_authorization_code(&db, "stale").await.unwrap(), None);
}

#[tokio::test]
async fn signing_keys_are_listed_oldest_first() {
    let (_t, db) = migrated().await;
    let first = sportello_server::identity::tokens::rotate(&db).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = sportello_server::identity::tokens::rotate(&db).await.unwrap();
    let kids: Vec<_> = store::signing_keys(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec![first, second]);
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_push() {
    use sportello_server::notify::store as notify;
    let (_t, db) = migrated().await;
    let user = store::upsert_user(&db, CITIZEN, None, None).await.unwrap();
    for i in 0..200 {
        notify::upsert_device(&db, &user.id, "fcm", &format!("token-{i}"), None, None)
            .await
            .unwrap();
    }
    let mut conn = db.pool().acquire().await.unwrap();
    let message = notify::NewMessage {
        user_id: user.id.clone(),
        topic: "permits".into(),
        subject: "Pratica registrata".into(),
        ttl_ms: 60_000,
        ..notify::NewMessage::default()
    };
    notify::enqueue(&mut conn, &message).await.unwrap();
    drop(conn);
    let workers = (0..4).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = notify::claim_due(&db, 30, 60_000).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|push| push.id));
            }
        })
    });
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (200, 200), "each push claimed exactly once");
    // Claimed rows are leased: nobody else gets them until the lease ends.
    assert!(notify::claim_due(&db, 30, 60_000).await.unwrap().is_empty());
}
