-- Copied verbatim from the shared brief's ../shared/perf/sweep-anchor.sql (2026-11-29), so a clone
-- reproduces bench:sweep's ratio on its own. test/bench/sweep.bench.ts runs it.
-- The anchor for the sweep benchmark: the same work as one sweep of the activity clock, written as
-- set-based SQL on the project's schema. The accounts past the 30-day rule are made inactive, each
-- with its audit row and holder notice; the accounts inside the 7-day window are recorded in
-- warnings_sent and queued a holder warning; one digest is queued per organisation.
-- Run it on a database seeded as the benchmark seeds it, in the same run as the benchmark, and
-- report the benchmark's sweep time as a ratio to this one:
--   psql "$URL" -v now=2026-11-23T05:00:00Z -f sweep-anchor.sql

begin;
with changed as (
  update accounts set status = 'inactive', inactive_since = :'now', status_changed_at = :'now'
  where status = 'active' and kind = 'person' and last_activity_at <= :'now'::timestamptz - interval '30 days'
  returning id, address, home_org),
a as (insert into audit_log (at, actor, platform, action, address, org, from_status, to_status, reason)
      select :'now', 'scheduler', 'schedule', 'inactivity', address, home_org, 'active', 'inactive', 'no login or sent email for 30 days' from changed)
insert into outbox (created_at, kind, audience, payload, available_at)
  select :'now', 'status-change', jsonb_build_object('type', 'holder', 'address', address),
         jsonb_build_object('address', address, 'org', home_org, 'from', 'active', 'to', 'inactive'), :'now' from changed;
create temp table w on commit drop as
  with cand as (
    select id, address, home_org, last_activity_at + interval '30 days' as due_at from accounts
    where status = 'active' and kind = 'person'
      and last_activity_at > :'now'::timestamptz - interval '30 days'
      and last_activity_at <= :'now'::timestamptz - interval '23 days'),
  ins as (insert into warnings_sent (account_id, clock, due_at, threshold_days, queued_at)
          select id, 'inactivity', due_at, 7, :'now' from cand on conflict do nothing returning account_id, due_at)
  select c.* from cand c join ins on ins.account_id = c.id;
insert into outbox (created_at, kind, audience, payload, available_at)
  select :'now', 'warning', jsonb_build_object('type', 'holder', 'address', address),
         jsonb_build_object('address', address, 'org', home_org, 'clock', 'inactivity', 'thresholdDays', 7, 'dueAt', due_at), :'now' from w;
insert into outbox (created_at, kind, audience, payload, available_at)
  select :'now', 'digest', jsonb_build_object('type', 'org', 'ods', home_org),
         jsonb_build_object('org', home_org, 'items', jsonb_agg(jsonb_build_object('address', address, 'dueAt', due_at) order by due_at)), :'now'
  from w group by home_org;
commit;
