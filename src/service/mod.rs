//! The application layer: one module per capability. Each operation owns
//! its transaction, calls the pure engines in `scim`, writes the audit
//! entry and returns typed results. It knows nothing of HTTP (`http` parses
//! and renders around one call here) and reaches PostgreSQL only through
//! `store`.
