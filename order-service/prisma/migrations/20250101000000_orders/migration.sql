-- Orders, their items and the Idempotency-Key claims of POST /orders (matches schema.prisma;
-- the CHECKs are extra, Prisma cannot express them).

CREATE TABLE "orders" (
  "id"            SERIAL         NOT NULL,
  "user_id"       INTEGER        NOT NULL,
  "status"        VARCHAR(20)    NOT NULL DEFAULT 'pending',
  "total_amount"  DECIMAL(10,2)  NOT NULL,
  "cancel_reason" VARCHAR(200),
  "version"       INTEGER        NOT NULL DEFAULT 0,
  "created_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "updated_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "orders_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "orders_total_amount_check" CHECK ("total_amount" >= 0),
  CONSTRAINT "orders_status_check" CHECK ("status" IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled'))
);
CREATE INDEX "orders_user_id_idx" ON "orders" ("user_id");
CREATE INDEX "orders_status_idx" ON "orders" ("status");

CREATE TABLE "order_items" (
  "id"            SERIAL        NOT NULL,
  "order_id"      INTEGER       NOT NULL,
  "product_id"    INTEGER       NOT NULL,
  "product_name"  VARCHAR(200)  NOT NULL,
  "product_price" DECIMAL(10,2) NOT NULL,
  "quantity"      INTEGER       NOT NULL,
  "subtotal"      DECIMAL(10,2) NOT NULL,
  CONSTRAINT "order_items_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "order_items_product_price_check" CHECK ("product_price" > 0),
  CONSTRAINT "order_items_quantity_check" CHECK ("quantity" > 0),
  CONSTRAINT "order_items_subtotal_check" CHECK ("subtotal" > 0),
  CONSTRAINT "order_items_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "order_items_order_id_idx" ON "order_items" ("order_id");

CREATE TABLE "idempotency_keys" (
  "user_id"         INTEGER        NOT NULL,
  "key"             VARCHAR(200)   NOT NULL,
  "request_hash"    VARCHAR(64)    NOT NULL,
  "status"          VARCHAR(20)    NOT NULL DEFAULT 'in_flight',
  "response_status" INTEGER,
  "response_body"   JSONB,
  "order_id"        INTEGER,
  "created_at"      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("user_id", "key"),
  CONSTRAINT "idempotency_keys_status_check" CHECK ("status" IN ('in_flight', 'done')),
  CONSTRAINT "idempotency_keys_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
