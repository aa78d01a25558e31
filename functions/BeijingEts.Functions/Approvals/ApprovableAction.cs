using BeijingEts.Domain.Approvals;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Approvals;

/// <summary>What carrying out an approved action came to: done (with what it did), or refused by the state it met.</summary>
public sealed record ActionOutcome(bool Done, string Text)
{
    public static ActionOutcome Executed(string what) => new(true, what);

    public static ActionOutcome Failed(string reason) => new(false, reason);
}

/// <summary>
/// An action that takes a second regulator's approval. Its endpoint validates fully and proposes; once approved,
/// <see cref="ExecuteAsync"/> re-checks against current state and carries it out through the capability's own service.
/// Execution must be idempotent: a crash or a sweep may run it again, and running it again must report the same outcome.
/// </summary>
public interface IApprovableAction
{
    string Kind { get; }

    Task<ActionOutcome> ExecuteAsync(Proposal proposal, string payload, Actor approver, CancellationToken cancellationToken);
}

/// <summary>An <see cref="IApprovableAction"/> whose payload is a record of its own.</summary>
public abstract class ApprovableAction<TPayload> : IApprovableAction
{
    public abstract string Kind { get; }

    public Task<ActionOutcome> ExecuteAsync(Proposal proposal, string payload, Actor approver, CancellationToken cancellationToken) =>
        ExecuteAsync(proposal, JsonSerializer.Deserialize<TPayload>(payload, DocumentRows.Json)!, approver, cancellationToken);

    protected abstract Task<ActionOutcome> ExecuteAsync(Proposal proposal, TPayload payload, Actor approver, CancellationToken cancellationToken);
}
