-- Customers and their money. Balances are kept in cents; the ledger records every movement, so a statement can
-- always be reconciled with the balance.
CREATE TABLE accounts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text        NOT NULL CONSTRAINT accounts_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  name          text        NOT NULL CONSTRAINT accounts_name_present CHECK (btrim(name) <> ''),
  balance_cents bigint      NOT NULL DEFAULT 0 CONSTRAINT accounts_balance_nonnegative CHECK (balance_cents >= 0),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- One account per address, whatever its case: Ann@Example.com and ann@example.com are the same customer.
CREATE UNIQUE INDEX accounts_email_unique ON accounts (lower(email));

CREATE TABLE ledger_entries (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id   bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind         text        NOT NULL CONSTRAINT ledger_entries_kind CHECK (kind IN ('deposit', 'withdrawal', 'transfer_in', 'transfer_out', 'order', 'refund')),
  amount_cents bigint      NOT NULL CONSTRAINT ledger_entries_amount_nonzero CHECK (amount_cents <> 0),
  reference    text,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);
