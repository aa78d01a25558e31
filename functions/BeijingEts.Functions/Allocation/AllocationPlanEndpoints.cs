using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Ledger;
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
/// share (Art. 14) and each industry's allocation method. A cap below what is already issued for the year is refused.
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

    private static async Task<Results<Ok<PlanView>, ProblemHttpResult>> HandleAsync(
        int year, Request request, HttpContext http, AllocationPlanStore plans, LedgerStore ledger, AuditLog audit, CancellationToken cancellationToken)
    {
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var plan = AllocationPlanStore.ToPlan(new PlanView(year, request.Cap, request.ReserveRatio, request.PreAllocationRatio, Tonnes.Zero, Tonnes.Zero, request.Methods));
        var problems = AllocationPlan.Validate(year, request.Cap.Value, request.ReserveRatio, request.PreAllocationRatio, plan.Methods);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var issued = await ledger.IssuedAsync(year, cancellationToken);
        if (issued > plan.Cap)
        {
            return Problems.Unprocessable($"{issued.Value} t of BEA {year} are already issued, more than the cap of {plan.Cap.Value} t; the cap cannot go below what is issued.");
        }
        var before = await plans.FindAsync(year, cancellationToken);
        await plans.PutAsync(plan, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "allocation.plan-set", $"allocation/{year}/plan", before is null ? null : PlanView.From(before), PlanView.From(plan), cancellationToken);
        return TypedResults.Ok(PlanView.From(plan));
    }
}
