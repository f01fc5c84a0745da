"""Operations that span the store and backend.invoicing, shared by the API, the portal and the
CLI (each of them only translates its input and output; the rules and the SQL live here, in
backend.store and in backend.billing)."""
