-- The catalogue and its stock. Stock can never go below zero: the CHECK is the last line of defence when two
-- checkouts race for the last unit.
CREATE TABLE products (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku         text        NOT NULL CONSTRAINT products_sku_unique UNIQUE
                          CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]*$'),
  name        text        NOT NULL,
  price_cents bigint      NOT NULL CONSTRAINT products_price_positive CHECK (price_cents > 0),
  stock       integer     NOT NULL DEFAULT 0 CONSTRAINT products_stock_nonnegative CHECK (stock >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
