ALTER TABLE "directory_effects" ADD COLUMN "step" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "directory_effects" ADD COLUMN "adopt" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "directory_gate" ADD COLUMN "next_write_at" timestamp with time zone;