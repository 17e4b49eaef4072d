-- Issue 16 (scale): a re-plan with nothing changed reads no plan inputs.
--
-- Each agreement carries a plan revision, raised by these triggers whenever something its reminder plan
-- is made from changes: its term, status, dates, notice period, reminder offsets or auto-renewal, or one
-- of its milestones (added, deleted, re-dated, done or reopened). mou_plan_state.fingerprint now holds the
-- server's plan signature and the revision the jobs were planned from ("<signature>#<revision>"), so a
-- start compares them in one indexed query and reads the inputs of the changed agreements only. Every
-- write path is covered by the triggers, whatever statement it uses. The fingerprints stored before this
-- migration no longer match: each agreement is re-planned once, at the next start.
ALTER TABLE mou_agreements ADD COLUMN plan_rev INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER mou_agreements_plan_rev
AFTER UPDATE OF term, status, effective_on, expires_on, notice_days, remind_offsets, auto_renew
ON mou_agreements
BEGIN
    UPDATE mou_agreements SET plan_rev = plan_rev + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER mou_milestones_plan_rev_insert AFTER INSERT ON mou_milestones
BEGIN
    UPDATE mou_agreements SET plan_rev = plan_rev + 1 WHERE id = NEW.agreement_id;
END;

CREATE TRIGGER mou_milestones_plan_rev_delete AFTER DELETE ON mou_milestones
BEGIN
    UPDATE mou_agreements SET plan_rev = plan_rev + 1 WHERE id = OLD.agreement_id;
END;

CREATE TRIGGER mou_milestones_plan_rev_update AFTER UPDATE OF agreement_id, due_on, done_ms ON mou_milestones
BEGIN
    UPDATE mou_agreements SET plan_rev = plan_rev + 1 WHERE id IN (OLD.agreement_id, NEW.agreement_id);
END;
