DROP INDEX "deliveries_once_idx";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "part" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_once_idx" ON "deliveries" USING btree ("outbox_id","target","part");