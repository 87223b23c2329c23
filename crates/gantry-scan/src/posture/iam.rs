//! IAM checks: the root user, the password policy, console users and
//! access keys.

use std::sync::Arc;
use std::time::Duration;

use gantry_aws::service::iam::{self, AccessKey, PasswordPolicy};

use super::catalog::{CONSOLE_MFA, KEY_ROTATION, KEY_UNUSED, PASSWORD_POLICY, ROOT_KEYS, ROOT_MFA};
use super::{Ctx, Out, days, each};

/// Keys older (or unused for longer) than this are reported.
pub(crate) const KEY_MAX_AGE: Duration = Duration::from_secs(90 * 86_400);

pub(crate) async fn run(ctx: Arc<Ctx>) -> Out {
    let mut out = Out::default();
    let c = &ctx.home;
    let root = format!("arn:{}:iam::{}:root", ctx.partition, ctx.account);

    match iam::get_account_summary(c).await {
        Ok(summary) => {
            match summary.get("AccountAccessKeysPresent") {
                Some(n) if *n > 0 => out.report(
                    ROOT_KEYS,
                    &root,
                    "the root user has access keys".into(),
                    "AccountAccessKeysPresent",
                ),
                Some(_) => {}
                None => out.cannot(
                    ROOT_KEYS,
                    None,
                    None,
                    "GetAccountSummary did not report AccountAccessKeysPresent".into(),
                ),
            }
            match summary.get("AccountMFAEnabled") {
                Some(0) => out.report(
                    ROOT_MFA,
                    &root,
                    "MFA is not enabled for the root user".into(),
                    "AccountMFAEnabled",
                ),
                Some(_) => {}
                None => out.cannot(
                    ROOT_MFA,
                    None,
                    None,
                    "GetAccountSummary did not report AccountMFAEnabled".into(),
                ),
            }
        }
        Err(e) => {
            out.failed(ROOT_KEYS, None, None, &e);
            out.failed(ROOT_MFA, None, None, &e);
        }
    }

    match iam::get_account_password_policy(c).await {
        Ok(policy) => {
            let weak = password_policy_weaknesses(policy.as_ref());
            if !weak.is_empty() {
                out.report(
                    PASSWORD_POLICY,
                    &format!(
                        "arn:{}:iam::{}:account-password-policy",
                        ctx.partition, ctx.account
                    ),
                    weak.join("; "),
                    "",
                );
            }
        }
        Err(e) => out.failed(PASSWORD_POLICY, None, None, &e),
    }

    let users = match iam::list_users(c).await {
        Ok(u) => u,
        Err(e) => {
            for id in [CONSOLE_MFA, KEY_ROTATION, KEY_UNUSED] {
                out.failed(id, None, None, &e);
            }
            return out;
        }
    };
    let per_user = each(users, |user| {
        let ctx = ctx.clone();
        async move { user_checks(&ctx, &user).await }
    })
    .await;
    out.findings.extend(per_user.findings);
    out.not_run.extend(per_user.not_run);
    out
}

async fn user_checks(ctx: &Ctx, user: &iam::User) -> Out {
    let mut out = Out::default();
    let c = &ctx.home;
    console_mfa(c, user, &mut out).await;
    match iam::list_access_keys(c, &user.name).await {
        Ok(keys) => {
            for key in keys.iter().filter(|k| k.status == "Active") {
                access_key(ctx, user, key, &mut out).await;
            }
        }
        Err(e) => {
            out.failed(KEY_ROTATION, None, Some(&user.arn), &e);
            out.failed(KEY_UNUSED, None, Some(&user.arn), &e);
        }
    }
    out
}

async fn console_mfa(c: &gantry_aws::Client, user: &iam::User, out: &mut Out) {
    let profile = match iam::get_login_profile(c, &user.name).await {
        Ok(p) => p,
        Err(e) => return out.failed(CONSOLE_MFA, None, Some(&user.arn), &e),
    };
    if profile.is_none() {
        return;
    }
    match iam::list_mfa_devices(c, &user.name).await {
        Ok(devices) if devices.is_empty() => out.report(
            CONSOLE_MFA,
            &user.arn,
            format!(
                "IAM user {} has a console password and no MFA device",
                user.name
            ),
            "",
        ),
        Ok(_) => {}
        Err(e) => out.failed(CONSOLE_MFA, None, Some(&user.arn), &e),
    }
}

async fn access_key(ctx: &Ctx, user: &iam::User, key: &AccessKey, out: &mut Out) {
    let resource = format!("{}/access-key/{}", user.arn, key.id);
    let Some(created) = iam::parse_timestamp(&key.create_date) else {
        let why = format!(
            "access key {} has an unreadable CreateDate {:?}",
            key.id, key.create_date
        );
        out.cannot(KEY_ROTATION, None, Some(&resource), why.clone());
        out.cannot(KEY_UNUSED, None, Some(&resource), why);
        return;
    };
    let age = ctx.age(created);
    if age > KEY_MAX_AGE {
        out.report(
            KEY_ROTATION,
            &resource,
            format!(
                "access key {} of IAM user {} was created {} days ago ({})",
                key.id,
                user.name,
                days(age),
                key.create_date
            ),
            &key.id,
        );
    }
    match iam::get_access_key_last_used(&ctx.home, &key.id).await {
        Ok(last) => {
            let verdict = unused_verdict(ctx, age, last.as_deref());
            match verdict {
                Ok(Some(message)) => out.report(
                    KEY_UNUSED,
                    &resource,
                    format!("access key {} of IAM user {}: {message}", key.id, user.name),
                    &key.id,
                ),
                Ok(None) => {}
                Err(why) => out.cannot(KEY_UNUSED, None, Some(&resource), why),
            }
        }
        Err(e) => out.failed(KEY_UNUSED, None, Some(&resource), &e),
    }
}

/// `Some(message)` when a key of `age` last used at `last_used` (never,
/// when `None`) is stale.
fn unused_verdict(
    ctx: &Ctx,
    age: Duration,
    last_used: Option<&str>,
) -> Result<Option<String>, String> {
    match last_used {
        None if age > KEY_MAX_AGE => {
            Ok(Some(format!("never used, created {} days ago", days(age))))
        }
        None => Ok(None),
        Some(s) => {
            let t =
                iam::parse_timestamp(s).ok_or_else(|| format!("unreadable LastUsedDate {s:?}"))?;
            let idle = ctx.age(t);
            Ok((idle > KEY_MAX_AGE).then(|| format!("last used {} days ago ({s})", days(idle))))
        }
    }
}

/// What is weak about a password policy (CIS AWS 1.2.0 1.5-1.11): each
/// entry names one setting; empty when the policy is strong.
pub(crate) fn password_policy_weaknesses(p: Option<&PasswordPolicy>) -> Vec<String> {
    let Some(p) = p else {
        return vec![
            "the account has no password policy (AWS then accepts 8-character passwords, \
             never expires them and allows reuse)"
                .into(),
        ];
    };
    let mut weak = Vec::new();
    match p.minimum_password_length {
        Some(n) if n >= 14 => {}
        Some(n) => weak.push(format!(
            "minimum password length is {n}, expected at least 14"
        )),
        None => weak.push("no minimum password length, expected at least 14".into()),
    }
    match p.password_reuse_prevention {
        Some(n) if n >= 24 => {}
        Some(n) => weak.push(format!(
            "password reuse prevention remembers {n} passwords, expected 24"
        )),
        None => weak.push("passwords may be reused, expected reuse prevention of 24".into()),
    }
    match (p.expire_passwords, p.max_password_age) {
        (_, Some(n)) if n > 0 && n <= 90 => {}
        (_, Some(n)) if n > 90 => weak.push(format!(
            "passwords expire after {n} days, expected 90 or fewer"
        )),
        _ => weak.push("passwords never expire, expected a maximum age of 90 days".into()),
    }
    for (required, what) in [
        (p.require_uppercase_characters, "an uppercase letter"),
        (p.require_lowercase_characters, "a lowercase letter"),
        (p.require_numbers, "a number"),
        (p.require_symbols, "a symbol"),
    ] {
        if !required {
            weak.push(format!("passwords need not contain {what}"));
        }
    }
    weak
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strong() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: Some(14),
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            expire_passwords: true,
            max_password_age: Some(90),
            password_reuse_prevention: Some(24),
            hard_expiry: false,
        }
    }

    #[test]
    fn strong_policy_passes() {
        assert!(password_policy_weaknesses(Some(&strong())).is_empty());
    }

    #[test]
    fn each_weakness_is_named() {
        assert_eq!(password_policy_weaknesses(None).len(), 1);
        let mut p = strong();
        p.minimum_password_length = Some(8);
        assert_eq!(
            password_policy_weaknesses(Some(&p)),
            vec!["minimum password length is 8, expected at least 14".to_owned()]
        );
        let mut p = strong();
        p.password_reuse_prevention = None;
        p.max_password_age = Some(365);
        p.require_symbols = false;
        let w = password_policy_weaknesses(Some(&p));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("reused") && w[1].contains("365") && w[2].contains("symbol"));
        let mut p = strong();
        p.max_password_age = None;
        p.expire_passwords = false;
        assert!(password_policy_weaknesses(Some(&p))[0].contains("never expire"));
    }
}
