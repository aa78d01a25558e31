using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Approvals;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Allocation;

public sealed record MethodView(AllocationMethod Method, IReadOnlyList<int>? BaseYears = null, decimal ControlFactor = 1m, IReadOnlyDictionary<string, decimal>? Benchmarks = null);

public sealed record PlanView(int Year, Tonnes Cap, decimal ReserveRatio, decimal PreAllocationRatio, Tonnes Reserve, Tonnes FreeAllocationCeiling,
    IReadOnlyDictionary<string, MethodView> Methods)
{
    public static PlanView From(AllocationPlan plan) => new(plan.Year, plan.Cap, plan.ReserveRatio, plan.PreAllocationRatio, plan.Reserve, plan.FreeAllocationCeiling,
        plan.Methods.ToDictionary(m => m.Key, m => new MethodView(m.Value.Method, m.Value.BaseYears, m.Value.ControlFactor, m.Value.Benchmarks)));
}

/// <summary>The allocationplans table: one row per year; its Cap column is what issuance is held to.</summary>
public sealed class AllocationPlanStore(StorageClients storage)
{
    private const string Partition = "plan";

    private TableClient Table => storage.Table(StorageNames.Tables.AllocationPlans);

    public async Task<AllocationPlan?> FindAsync(int year, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, DocumentRows.YearKey(year), cancellationToken: cancellationToken);
        return row.HasValue ? ToPlan(JsonSerializer.Deserialize<PlanView>(row.Value!.GetString("Document"), AuditLog.AuditJson)!) : null;
    }

    public Task PutAsync(AllocationPlan plan, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(Partition, DocumentRows.YearKey(plan.Year))
        {
            ["Cap"] = plan.Cap.Value,
            ["Document"] = JsonSerializer.Serialize(PlanView.From(plan), AuditLog.AuditJson),
        }, TableUpdateMode.Replace, cancellationToken);

    internal static AllocationPlan ToPlan(PlanView view) => new(view.Year, view.Cap, view.ReserveRatio, view.PreAllocationRatio,
        view.Methods.ToDictionary(m => m.Key, m => new MethodRule(m.Value.Method, m.Value.BaseYears ?? [], m.Value.ControlFactor,
            m.Value.Benchmarks ?? new Dictionary<string, decimal>())));

}

/// <summary>
/// PUT /api/allocation/{year}/plan (regulator): the year's cap, adjustment reserve (at most 5%, Art. 12), pre-allocation
/// share (Art. 14) and each industry's allocation method, proposed (202) and set once a second regulator approves.
/// A cap below what is already issued for the year is refused.
/// </summary>
public sealed class PutAllocationPlan : IHttpFunction
{
    public sealed record Request(Tonnes Cap, decimal ReserveRatio, decimal PreAllocationRatio, IReadOnlyDictionary<string, MethodView> Methods);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/allocation/{year:int}/plan", HandleAsync).WithTags("Allocation");
        api.MapGet("/allocation/{year:int}/plan", async Task<Results<Ok<PlanView>, ProblemHttpResult>> (int year, AllocationPlanStore plans, CancellationToken ct) =>
            await plans.FindAsync(year, ct) is { } plan ? TypedResults.Ok(PlanView.From(plan)) : ProblemHandling.NotFound($"No allocation plan for {year} has been set."))
            .WithTags("Allocation");
    }

    private static async Task<Results<Accepted<ProposalReceipt>, ProblemHttpResult>> HandleAsync(
        int year, Request request, HttpContext http, AllocationPlanSetter setter, ApprovalService approvals, CancellationToken cancellationToken)
    {
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var plan = AllocationPlanStore.ToPlan(new PlanView(year, request.Cap, request.ReserveRatio, request.PreAllocationRatio, Tonnes.Zero, Tonnes.Zero, request.Methods));
        var problems = AllocationPlan.Validate(year, request.Cap.Value, request.ReserveRatio, request.PreAllocationRatio, plan.Methods);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        if (await setter.RefusalAsync(plan, cancellationToken) is { } refusal) return Problems.Unprocessable(refusal);
        // The cap bounds issuance (Art. 12): a second regulator approves it before it takes effect.
        var (_, proposal) = await approvals.ProposeAsync(AllocationPlanApproval.KindName, $"allocation/{year}/plan",
            $"{year} plan: cap {plan.Cap.Value} t, reserve {plan.ReserveRatio:P1}, pre-allocation {plan.PreAllocationRatio:P0}", PlanView.From(plan),
            Actor.From(http.User), cancellationToken);
        return ProposalReceipt.Accepted(proposal);
    }
}

/// <summary>Sets a year's plan once approved: a cap below what is already issued for the year is refused.</summary>
public sealed class AllocationPlanSetter(AllocationPlanStore plans, LedgerStore ledger, AuditLog audit)
{
    public async Task<string?> RefusalAsync(AllocationPlan plan, CancellationToken cancellationToken)
    {
        var issued = await ledger.IssuedAsync(plan.Year, cancellationToken);
        return issued > plan.Cap
            ? $"{issued.Value} t of BEA {plan.Year} are already issued, more than the cap of {plan.Cap.Value} t; the cap cannot go below what is issued."
            : null;
    }

    public async Task<string?> SetAsync(AllocationPlan plan, Actor actor, CancellationToken cancellationToken)
    {
        if (await RefusalAsync(plan, cancellationToken) is { } refusal) return refusal;
        var before = await plans.FindAsync(plan.Year, cancellationToken);
        await plans.PutAsync(plan, cancellationToken);
        await audit.RecordAsync(actor, "allocation.plan-set", $"allocation/{plan.Year}/plan", before is null ? null : PlanView.From(before), PlanView.From(plan), cancellationToken);
        return null;
    }
}

/// <summary>PUT /api/allocation/{year}/plan, once a second regulator approves it.</summary>
public sealed class AllocationPlanApproval(AllocationPlanSetter setter) : ApprovableAction<PlanView>
{
    public const string KindName = "allocation.plan";

    public override string Kind => KindName;

    protected override async Task<ActionOutcome> ExecuteAsync(Proposal proposal, PlanView payload, Actor approver, CancellationToken cancellationToken)
    {
        var plan = AllocationPlanStore.ToPlan(payload);
        return await setter.SetAsync(plan, approver, cancellationToken) is { } refusal
            ? ActionOutcome.Failed(refusal)
            : ActionOutcome.Executed($"the {plan.Year} plan is set: cap {plan.Cap.Value} t (GET /api/allocation/{plan.Year}/plan)");
    }
}
