namespace BeijingEts.Domain.Approvals;

public enum ProposalStatus
{
    /// <summary>Recorded, waiting for a second regulator.</summary>
    Pending,
    /// <summary>Approved by a second regulator; the action is being carried out.</summary>
    Approved,
    /// <summary>Carried out.</summary>
    Executed,
    /// <summary>Approved, but it could no longer be done against the state it met; the reason says why.</summary>
    Failed,
    /// <summary>Turned down by a second regulator; nothing was done.</summary>
    Rejected,
}

/// <summary>What a decision on a proposal came to.</summary>
public enum DecisionVerdict
{
    /// <summary>Decided now.</summary>
    Decided,
    /// <summary>The same person decided the same way before: nothing changes (a retried request).</summary>
    AlreadyDecided,
    /// <summary>The proposer cannot approve or reject their own proposal.</summary>
    OwnProposal,
    /// <summary>Someone else decided it already, or it was decided the other way.</summary>
    DecidedOtherwise,
}

/// <summary>
/// An irreversible regulator action waiting for a second person (the four-eyes rule of the registry): one regulator
/// proposes, a different one approves or rejects, and an approved action ends executed or failed, once.
/// </summary>
public sealed record Proposal(
    string Id,
    string Kind,
    string Subject,
    string Summary,
    string ProposedBy,
    DateTimeOffset ProposedAt,
    ProposalStatus Status = ProposalStatus.Pending,
    string? DecidedBy = null,
    DateTimeOffset? DecidedAt = null,
    string? Outcome = null,
    string? FailureReason = null,
    DateTimeOffset? CompletedAt = null)
{
    public bool IsFinished => Status is ProposalStatus.Executed or ProposalStatus.Failed or ProposalStatus.Rejected;

    public (DecisionVerdict Verdict, Proposal Proposal) Approve(string approver, DateTimeOffset at) => Decide(approver, at, ProposalStatus.Approved);

    public (DecisionVerdict Verdict, Proposal Proposal) Reject(string rejecter, DateTimeOffset at) => Decide(rejecter, at, ProposalStatus.Rejected);

    /// <summary>The approved action was carried out; <paramref name="outcome"/> says what it did.</summary>
    public Proposal Complete(string outcome, DateTimeOffset at) => Finish(ProposalStatus.Executed, outcome, null, at);

    /// <summary>The approved action could not be carried out against the current state.</summary>
    public Proposal Fail(string reason, DateTimeOffset at) => Finish(ProposalStatus.Failed, null, reason, at);

    private (DecisionVerdict, Proposal) Decide(string person, DateTimeOffset at, ProposalStatus decision)
    {
        if (string.Equals(person, ProposedBy, StringComparison.Ordinal)) return (DecisionVerdict.OwnProposal, this);
        if (Status == ProposalStatus.Pending) return (DecisionVerdict.Decided, this with { Status = decision, DecidedBy = person, DecidedAt = at });
        var sameWay = decision == ProposalStatus.Rejected ? Status == ProposalStatus.Rejected : Status != ProposalStatus.Rejected;
        return sameWay && string.Equals(person, DecidedBy, StringComparison.Ordinal) ? (DecisionVerdict.AlreadyDecided, this) : (DecisionVerdict.DecidedOtherwise, this);
    }

    private Proposal Finish(ProposalStatus status, string? outcome, string? reason, DateTimeOffset at)
    {
        if (Status != ProposalStatus.Approved) throw new InvalidOperationException($"Proposal {Id} is {Status}; only an approved proposal is carried out.");
        return this with { Status = status, Outcome = outcome, FailureReason = reason, CompletedAt = at };
    }
}
