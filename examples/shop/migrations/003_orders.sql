-- Orders and their lines. A line keeps the unit price paid, so a later price change does not rewrite history.
CREATE TABLE orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
  status      text        NOT NULL DEFAULT 'placed' CONSTRAINT orders_status CHECK (status IN ('placed', 'cancelled')),
  total_cents bigint      NOT NULL CONSTRAINT orders_total_positive CHECK (total_cents > 0),
  placed_at   timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz,
  CONSTRAINT orders_cancelled_at CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);

CREATE INDEX orders_account ON orders (account_id, id);

CREATE TABLE order_lines (
  order_id         bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       bigint  NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
  quantity         integer NOT NULL CONSTRAINT order_lines_quantity_positive CHECK (quantity > 0),
  unit_price_cents bigint  NOT NULL CONSTRAINT order_lines_price_positive CHECK (unit_price_cents > 0),
  PRIMARY KEY (order_id, product_id)
);

CREATE INDEX order_lines_product ON order_lines (product_id);
