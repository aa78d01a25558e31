using BeijingEts.Functions.Audit;
using BeijingEts.Domain.Approvals;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Approvals;

/// <summary>What a proposing endpoint answers (202): the proposal to approve at POST /api/approvals/{proposalId}/approve.</summary>
public sealed record ProposalReceipt(string ProposalId, string Kind, string Status)
{
    public static Accepted<ProposalReceipt> Accepted(Proposal proposal) =>
        TypedResults.Accepted($"/api/approvals/{Uri.EscapeDataString(proposal.Id)}", new ProposalReceipt(proposal.Id, proposal.Kind, ApprovalStore.Name(proposal.Status)));
}

public sealed record ProposalView(
    string ProposalId, string Kind, string Subject, string Summary, JsonElement Payload, string Status,
    string ProposedBy, DateTimeOffset ProposedAt, string? ApprovedBy, string? RejectedBy, DateTimeOffset? DecidedAt,
    string? Outcome, string? FailureReason, DateTimeOffset? CompletedAt)
{
    public static ProposalView Of(StoredProposal stored) => Of(stored.Proposal, stored.Payload);

    public static ProposalView Of(Proposal p, string payload) => new(
        p.Id, p.Kind, p.Subject, p.Summary, JsonDocument.Parse(payload).RootElement.Clone(), ApprovalStore.Name(p.Status),
        p.ProposedBy, p.ProposedAt,
        p.Status == ProposalStatus.Rejected ? null : p.DecidedBy,
        p.Status == ProposalStatus.Rejected ? p.DecidedBy : null,
        p.DecidedAt, p.Outcome, p.FailureReason, p.CompletedAt);
}

/// <summary>
/// The four-eyes rule (the UK ETS registry's model): POST /api/approvals/{proposalId}/approve and /reject by a regulator
/// other than the proposer; GET /api/approvals[?status=] and GET /api/approvals/{proposalId} (regulators).
/// </summary>
public sealed class ApprovalEndpoints : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/approvals/{proposalId}/approve", ApproveAsync).WithTags("Approvals");
        api.MapPost("/approvals/{proposalId}/reject", RejectAsync).WithTags("Approvals");
        api.MapGet("/approvals", ListAsync).WithTags("Approvals");
        api.MapGet("/approvals/{proposalId}", GetAsync).WithTags("Approvals");
    }

    private static async Task<Results<Ok<ProposalView>, ProblemHttpResult>> ApproveAsync(
        string proposalId, HttpContext http, ApprovalService approvals, CancellationToken cancellationToken) =>
        Answer(http, proposalId, "approve", await approvals.ApproveAsync(proposalId, Actor.From(http.User), cancellationToken));

    private static async Task<Results<Ok<ProposalView>, ProblemHttpResult>> RejectAsync(
        string proposalId, HttpContext http, ApprovalService approvals, CancellationToken cancellationToken) =>
        Answer(http, proposalId, "reject", await approvals.RejectAsync(proposalId, Actor.From(http.User), cancellationToken));

    private static Results<Ok<ProposalView>, ProblemHttpResult> Answer(HttpContext http, string id, string verb, (DecisionVerdict Verdict, StoredProposal? Proposal) result) => result switch
    {
        // The same person deciding the same way again: the decision was audited when made (and any execution it finishes is audited then).
        (DecisionVerdict.AlreadyDecided, { } p) => AuditLog.Replayed(http, TypedResults.Ok(ProposalView.Of(p))),
        (_, null) => ProblemHandling.NotFound($"No proposal {id}."),
        (DecisionVerdict.OwnProposal, _) => Problems.Forbidden($"You proposed {id}; a different regulator must {verb} it."),
        (DecisionVerdict.DecidedOtherwise, { } p) => Problems.Conflict(
            $"Proposal {id} was already {ApprovalStore.Name(p.Proposal.Status)} (decided by {p.Proposal.DecidedBy}); it cannot be {verb}d now."),
        (_, { } p) => TypedResults.Ok(ProposalView.Of(p)),
    };

    private static async Task<Results<Ok<IReadOnlyList<ProposalView>>, ProblemHttpResult>> ListAsync(
        string? status, ApprovalService approvals, CancellationToken cancellationToken)
    {
        ProposalStatus? wanted = null;
        if (status is not null)
        {
            var match = Enum.GetValues<ProposalStatus>().Where(s => ApprovalStore.Name(s) == status).ToList();
            if (match.Count == 0)
            {
                return ProblemHandling.BadRequest($"status must be one of {string.Join(", ", Enum.GetValues<ProposalStatus>().Select(ApprovalStore.Name))}, or left out for all.");
            }
            wanted = match[0];
        }
        var found = await approvals.ListAsync(wanted, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ProposalView>>([.. found.Select(ProposalView.Of)]);
    }

    private static async Task<Results<Ok<ProposalView>, ProblemHttpResult>> GetAsync(string proposalId, ApprovalService approvals, CancellationToken cancellationToken) =>
        await approvals.FindAsync(proposalId, cancellationToken) is { } found ? TypedResults.Ok(ProposalView.Of(found)) : ProblemHandling.NotFound($"No proposal {proposalId}.");
}
