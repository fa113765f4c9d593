//! The people Sportello knows and the roles granted to them: what `sportello operators` and
//! the demo loader manage (roles are granted by fiscal code, before or after a first login, and
//! apply from the next login or token refresh).

use sportello_core::identity::{FiscalCode, Role};
use sportello_core::tenant::IstatCode;

use super::AuthError;
use super::store::{self, Grant, User};
use crate::db::Db;

/// Who "granted" a role in the audit column when it was not a person (`cli`, `demo`).
pub type Granter<'a> = &'a str;

/// People and their roles.
pub struct Directory {
    db: Db,
}

impl Directory {
    /// The directory of the database `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Records a person (or updates their names), as a login does; returns them.
    pub async fn add_person(
        &self,
        fiscal_code: &FiscalCode,
        given_name: Option<&str>,
        family_name: Option<&str>,
    ) -> Result<User, AuthError> {
        Ok(store::upsert_user(&self.db, fiscal_code.as_str(), given_name, family_name).await?)
    }

    /// Grants `role` to the person; granting it again changes nothing. Returns whether it was
    /// new.
    pub async fn grant(
        &self,
        fiscal_code: &FiscalCode,
        role: &Role,
        granted_by: Granter<'_>,
    ) -> Result<bool, AuthError> {
        let municipality = match role {
            Role::Operator { municipality, .. } => Some(municipality.as_str()),
            Role::Citizen | Role::Admin => None,
        };
        let role = role.to_string();
        Ok(store::grant_role(&self.db, fiscal_code.as_str(), &role, municipality, granted_by).await?)
    }

    /// Takes `role` away from the person; returns whether they had it.
    pub async fn revoke(&self, fiscal_code: &FiscalCode, role: &Role) -> Result<bool, AuthError> {
        Ok(store::revoke_role(&self.db, fiscal_code.as_str(), &role.to_string()).await?)
    }

    /// The grants, optionally only those of one municipality, at most `limit`, by role.
    pub async fn grants(
        &self,
        municipality: Option<&IstatCode>,
        limit: i64,
    ) -> Result<Vec<Grant>, AuthError> {
        Ok(store::list_grants(&self.db, municipality.map(IstatCode::as_str), limit).await?)
    }
}
