CREATE TABLE "directory_gate" (
	"directory" text PRIMARY KEY NOT NULL,
	"available_at" timestamp with time zone NOT NULL
);
