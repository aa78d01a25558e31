using BeijingEts.Domain.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Approvals;

public enum ProposeVerdict
{
    /// <summary>Recorded now, pending.</summary>
    Recorded,
    /// <summary>The same action was proposed under this id before: that proposal stands.</summary>
    AlreadyRecorded,
    /// <summary>The id is taken by a different proposal.</summary>
    IdTaken,
}

/// <summary>
/// The four-eyes rule for what cannot be undone: one regulator proposes, another approves or rejects, and an approved
/// action is carried out once by its <see cref="IApprovableAction"/>. Every step is audited under approvals/{id}.
/// </summary>
public sealed class ApprovalService(ApprovalStore store, IEnumerable<IApprovableAction> actions, NoticeOutbox notices, AuditLog audit, TimeProvider clock)
{
    /// <param name="id">An id the caller derives from its own idempotency key, so a retried request finds its proposal; a new id if null.</param>
    /// <param name="contentKey">What makes two proposals under one id the same action.</param>
    public async Task<(ProposeVerdict Verdict, Proposal Proposal)> ProposeAsync(
        string kind, string subject, string summary, object payload, Actor proposer, CancellationToken cancellationToken, string? id = null, string contentKey = "")
    {
        if (!actions.Any(a => a.Kind == kind)) throw new InvalidOperationException($"No approvable action of kind {kind} is registered.");
        var proposal = new Proposal(id ?? Guid.NewGuid().ToString("N"), kind, subject, summary, proposer.Id, clock.GetUtcNow());
        var json = JsonSerializer.Serialize(payload, DocumentRows.Json);
        if (await store.TryAddAsync(proposal, json, contentKey, cancellationToken) is { } existing)
        {
            var same = existing.Proposal.Kind == kind && existing.ContentKey == contentKey;
            if (same && existing.Proposal.Status == ProposalStatus.Pending) await notices.PublishAsync(Notice(existing.Proposal), cancellationToken);
            return (same ? ProposeVerdict.AlreadyRecorded : ProposeVerdict.IdTaken, existing.Proposal);
        }
        await audit.RecordAsync(proposer, "approval.proposed", Subject(proposal.Id), null, ProposalView.Of(proposal, json), cancellationToken);
        // The other regulators are asked: four eyes need a second pair to know there is something to look at.
        await notices.PublishAsync(Notice(proposal), cancellationToken);
        return (ProposeVerdict.Recorded, proposal);
    }

    private static NoticeDraft Notice(Proposal proposal) => NoticeTemplates.ApprovalRequested(proposal.Id, proposal.Summary, proposal.ProposedBy);

    public async Task<StoredProposal?> FindAsync(string id, CancellationToken cancellationToken) => await store.FindAsync(id, cancellationToken);

    /// <summary>Approves and carries out the action. Approving again (same person) finishes an execution that was cut off.</summary>
    public async Task<(DecisionVerdict Verdict, StoredProposal? Proposal)> ApproveAsync(string id, Actor approver, CancellationToken cancellationToken)
    {
        var (verdict, decided) = await DecideAsync(id, approver, (p, at) => p.Approve(approver.Id, at), "approval.approved", cancellationToken);
        if (decided is { Proposal.Status: ProposalStatus.Approved } && verdict is DecisionVerdict.Decided or DecisionVerdict.AlreadyDecided)
        {
            decided = await ExecuteAsync(decided, cancellationToken);
        }
        return (verdict, decided);
    }

    public Task<(DecisionVerdict Verdict, StoredProposal? Proposal)> RejectAsync(string id, Actor rejecter, CancellationToken cancellationToken) =>
        DecideAsync(id, rejecter, (p, at) => p.Reject(rejecter.Id, at), "approval.rejected", cancellationToken);

    /// <summary>Carries out an approved proposal and records how it ended; a finished one is returned as it is.</summary>
    public async Task<StoredProposal> ExecuteAsync(StoredProposal read, CancellationToken cancellationToken)
    {
        while (read.Proposal.Status == ProposalStatus.Approved)
        {
            var proposal = read.Proposal;
            var approver = new Actor(proposal.DecidedBy!, Roles.Regulator, null);
            var action = actions.Single(a => a.Kind == proposal.Kind);
            var outcome = await action.ExecuteAsync(proposal, read.Payload, approver, cancellationToken);
            var finished = outcome.Done ? proposal.Complete(outcome.Text, clock.GetUtcNow()) : proposal.Fail(outcome.Text, clock.GetUtcNow());
            if (await store.TryReplaceAsync(read, finished, cancellationToken))
            {
                await audit.RecordAsync(approver, outcome.Done ? "approval.executed" : "approval.failed", Subject(proposal.Id),
                    ProposalView.Of(proposal, read.Payload), ProposalView.Of(finished, read.Payload), cancellationToken);
                return read with { Proposal = finished };
            }
            // Another execution (a sweep, a retried approval) wrote first; its record stands, and the action is idempotent.
            read = (await store.FindAsync(proposal.Id, cancellationToken))!;
        }
        return read;
    }

    /// <summary>How long an approved proposal waits for its own request to carry it out before the sweep takes it as cut off.</summary>
    public static readonly TimeSpan CutOffAfter = TimeSpan.FromMinutes(2);

    /// <summary>Approved proposals whose execution was cut off (a crash between approval and execution).</summary>
    public async Task<int> FinishApprovedAsync(CancellationToken cancellationToken)
    {
        // Only approvals left for a while: one approved just now is being carried out by its own request, not cut off.
        var before = clock.GetUtcNow() - CutOffAfter;
        var approved = (await store.ListAsync(ProposalStatus.Approved, cancellationToken)).Where(p => p.Proposal.DecidedAt < before).ToList();
        foreach (var proposal in approved) await ExecuteAsync(proposal, cancellationToken);
        return approved.Count;
    }

    public Task<IReadOnlyList<StoredProposal>> ListAsync(ProposalStatus? status, CancellationToken cancellationToken) => store.ListAsync(status, cancellationToken);

    private async Task<(DecisionVerdict, StoredProposal?)> DecideAsync(
        string id, Actor person, Func<Proposal, DateTimeOffset, (DecisionVerdict, Proposal)> decide, string auditAction, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await store.FindAsync(id, cancellationToken) is not { } read) return (DecisionVerdict.DecidedOtherwise, null);
            var (verdict, decided) = decide(read.Proposal, clock.GetUtcNow());
            if (verdict != DecisionVerdict.Decided) return (verdict, read);
            if (!await store.TryReplaceAsync(read, decided, cancellationToken)) continue; // decided by someone else just now: look again
            await audit.RecordAsync(person, auditAction, Subject(id), ProposalView.Of(read.Proposal, read.Payload), ProposalView.Of(decided, read.Payload), cancellationToken);
            return (verdict, (await store.FindAsync(id, cancellationToken))!);
        }
    }

    public static string Subject(string id) => $"approvals/{id}";
}

/// <summary>
/// Every 5 minutes: finishes proposals approved but not carried out (the process stopped between the approval's write and
/// the action), so an approval always ends executed or failed.
/// </summary>
[TimerTrigger("0 */5 * * * *")]
public sealed class FinishApprovedProposals(ApprovalService approvals) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => approvals.FinishApprovedAsync(cancellationToken);
}
