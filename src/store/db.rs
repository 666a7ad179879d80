//! The two databases a store lives in: an SQLite file (embedded, the default) and a
//! PostgreSQL server (`postgres://…`, shared by workers on many machines). One schema,
//! written once (`schema.sql`; PostgreSQL takes it with its own integer types); every
//! query is written once, with `?1`-style parameters that [`Db`] rewrites to `$1` for
//! PostgreSQL.

use std::collections::HashMap;

/// A value passed to or read from a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
}

impl Val {
    /// The integer, or 0.
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            Val::Real(r) => *r as i64,
            _ => 0,
        }
    }

    /// The text, or None.
    pub fn opt_text(&self) -> Option<String> {
        match self {
            Val::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The text, or the empty string.
    pub fn text(&self) -> String {
        self.opt_text().unwrap_or_default()
    }

    /// The number, or None.
    pub fn opt_real(&self) -> Option<f64> {
        match self {
            Val::Real(r) => Some(*r),
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The integer, or None.
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}

impl From<&String> for Val {
    fn from(s: &String) -> Val {
        Val::Text(s.clone())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}

impl From<u64> for Val {
    fn from(i: u64) -> Val {
        Val::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Val {
    fn from(r: f64) -> Val {
        Val::Real(r)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Int(i64::from(b))
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(o: Option<T>) -> Val {
        o.map_or(Val::Null, Into::into)
    }
}

/// What went wrong in a database, in words (no parameter value is ever part of it).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (the server's own message and SQLSTATE when it sent one).
    /// (Its message says its cause, so it names no source, which would say it again.)
    #[cfg(feature = "postgres")]
    #[error("{}", pg_message(.0))]
    Postgres(postgres::Error),
    /// The TLS settings of a `postgres://` URL cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// A `postgres://` store in a build without PostgreSQL.
    #[error("this shush was built without PostgreSQL support (the `postgres` feature)")]
    NoPostgres,
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

/// A PostgreSQL error in words: the server's message and code, else the client's.
#[cfg(feature = "postgres")]
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            // The client's errors keep their cause (a certificate refused, say) as a source.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let said = cause.to_string();
                if !text.contains(&said) {
                    text = format!("{text}: {said}");
                }
                source = cause.source();
            }
            text
        }
    }
}

impl DbError {
    /// Whether running the transaction again may succeed: another writer won a race (a
    /// deadlock, a serialisation failure, a row inserted at the same moment).
    pub fn is_transient(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            DbError::Postgres(e) => e
                .code()
                .is_some_and(|c| matches!(c.code(), "40P01" | "40001" | "23505")),
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// Which database a store is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection to a store's database.
pub enum Db {
    /// An SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server, with its prepared statements.
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Client>, HashMap<String, postgres::Statement>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.dialect())
    }
}

/// Whether `location` names a PostgreSQL server rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Db {
    /// Connects to `location`: a `postgres://` URL, else an SQLite file path.
    pub fn open(location: &str) -> Result<Db, DbError> {
        if is_postgres_url(location) {
            return Db::open_postgres(location);
        }
        let conn = rusqlite::Connection::open(location)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(Db::Sqlite(conn))
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(url: &str) -> Result<Db, DbError> {
        let connect = super::pg_tls::parse(url)?;
        let client = match connect.tls {
            None => postgres::Client::connect(&connect.url, postgres::NoTls)?,
            Some(config) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
                postgres::Client::connect(&connect.url, tls)?
            }
        };
        Ok(Db::Postgres(Box::new(client), HashMap::new()))
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres(_: &str) -> Result<Db, DbError> {
        let _ = HashMap::<(), ()>::new();
        Err(DbError::NoPostgres)
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(..) => Dialect::Postgres,
        }
    }

    /// Runs statements without parameters (a schema, `BEGIN`, `COMMIT`).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Db::Postgres(c, _) => Ok(c.batch_execute(sql)?),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter().map(to_sqlite)))? as u64)
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c, cache) => {
                let st = pg_statement(c, cache, sql)?;
                let values = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref()).collect();
                Ok(c.execute(&st, &refs)?)
            }
        }
    }

    /// Runs one query; returns its rows.
    pub fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st.query_map(
                    rusqlite::params_from_iter(params.iter().map(to_sqlite)),
                    |r| (0..n).map(|i| r.get_ref(i).map(from_sqlite)).collect(),
                )?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c, cache) => {
                let st = pg_statement(c, cache, sql)?;
                let values = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref()).collect();
                let rows = c.query(&st, &refs)?;
                Ok(rows.iter().map(from_pg_row).collect())
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Option<Vec<Val>>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

fn to_sqlite(v: &Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => Value::Integer(*i),
        Val::Real(r) => Value::Real(*r),
        Val::Text(s) => Value::Text(s.clone()),
    }
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Val {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(r) => Val::Real(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

/// `?1` parameters as PostgreSQL writes them (`$1`). Statements never hold a literal `?`.
#[cfg(feature = "postgres")]
fn pg_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

#[cfg(feature = "postgres")]
fn pg_statement(
    c: &mut postgres::Client,
    cache: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, DbError> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = c.prepare(&pg_sql(sql))?;
    cache.insert(sql.to_string(), st.clone());
    Ok(st)
}

/// The parameters as PostgreSQL takes them. Integers are BIGINT, numbers DOUBLE PRECISION,
/// text TEXT, NULL an untyped option.
#[cfg(feature = "postgres")]
fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::Null => Box::new(Option::<String>::None),
                Val::Int(i) => Box::new(*i),
                Val::Real(r) => Box::new(*r),
                Val::Text(s) => Box::new(s.clone()),
            }
        })
        .collect()
}

#[cfg(feature = "postgres")]
fn from_pg_row(row: &postgres::Row) -> Vec<Val> {
    use postgres::types::Type;
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_().clone();
            let v = if ty == Type::INT8 {
                row.get::<_, Option<i64>>(i).map(Val::Int)
            } else if ty == Type::INT4 {
                row.get::<_, Option<i32>>(i).map(|n| Val::Int(n.into()))
            } else if ty == Type::FLOAT8 {
                row.get::<_, Option<f64>>(i).map(Val::Real)
            } else if ty == Type::BOOL {
                row.get::<_, Option<bool>>(i).map(|b| Val::Int(b.into()))
            } else {
                row.get::<_, Option<String>>(i).map(Val::Text)
            };
            v.unwrap_or(Val::Null)
        })
        .collect()
}
