using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Allocation;

/// <summary>An objection to a free allocation (Art. 15): filed within 7 working days of receiving it, decided within 10 of filing.</summary>
public sealed record Objection(
    string Id, int Year, string Uscc, string District, string Reason, DateOnly ReceivedOn, DateOnly FiledOn, DateOnly DecisionDeadline,
    string State, string? Outcome = null, Tonnes? Adjustment = null, DateOnly? DecidedOn = null, string? AdjustmentTransactionId = null, string? Explanation = null)
{
    public const int FilingWorkingDays = 7;
    public const int DecisionWorkingDays = 10;

    /// <summary>Open past its decision deadline, or decided after it.</summary>
    public bool OverdueOn(DateOnly today) => (DecidedOn ?? today) > DecisionDeadline;
}

public sealed record ObjectionView(Objection Objection, bool Overdue);

public sealed class ObjectionStore(StorageClients storage)
{
    private const string Partition = "objection";

    private TableClient Table => storage.Table(StorageNames.Tables.Objections);

    public async Task<(Objection Objection, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? (JsonSerializer.Deserialize<Objection>(row.Value!.GetString("Document"), AuditLog.AuditJson)!, row.Value.ETag) : null;
    }

    /// <summary>Adds an objection unless the unit already has an open one for the year (an "open" row in the same transaction).</summary>
    public async Task<bool> TryAddAsync(Objection objection, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition, OpenKey(objection)) { ["ObjectionId"] = objection.Id }),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(objection)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Records the decision and frees the unit to object again, in one transaction guarded by the ETag read.</summary>
    public Task DecideAsync(Objection decided, ETag etag, CancellationToken cancellationToken) =>
        Table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(decided), etag),
            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, OpenKey(decided)), ETag.All),
        ], cancellationToken);

    private static TableEntity ToEntity(Objection o) => new(Partition, o.Id) { ["Document"] = JsonSerializer.Serialize(o, AuditLog.AuditJson) };

    private static string OpenKey(Objection o) => $"open-{o.Year}-{o.Uscc}";
}

/// <summary>POST /api/allocation/{year}/units/{uscc}/objections (the unit): objects to its allocation within 7 working days (Art. 15).</summary>
public sealed class FileObjection : IHttpFunction
{
    public sealed record Request(string Reason);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/allocation/{year:int}/units/{uscc}/objections", HandleAsync).RequireRoles(Roles.Unit).WithTags("Allocation");

    private static async Task<Results<Created<ObjectionView>, ProblemHttpResult>> HandleAsync(
        int year, string uscc, Request request, HttpContext http, UnitStore units, AllocationStore allocations, ObjectionStore objections,
        CalendarService calendar, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "An objection is filed by the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        if (string.IsNullOrWhiteSpace(request.Reason)) return ProblemHandling.BadRequest("reason is required: say what in the allocation is wrong.");
        var allocation = await allocations.FindAsync(year, unit.Uscc, cancellationToken);
        if (allocation?.ReceivedOn is not { } receivedOn) return ProblemHandling.NotFound($"Unit {unit.Uscc} has received no {year} allocation to object to.");

        var working = await calendar.GetAsync(cancellationToken);
        var today = BeijingTime.Today(clock);
        var filingDeadline = working.AddWorkingDays(receivedOn, Objection.FilingWorkingDays);
        if (today > filingDeadline)
        {
            return Problems.Unprocessable($"The {year} allocation was received on {receivedOn:yyyy-MM-dd}; objections were due by {filingDeadline:yyyy-MM-dd} (7 working days, Art. 15).");
        }
        var objection = new Objection(Guid.NewGuid().ToString("N"), year, unit.Uscc, unit.District, request.Reason.Trim(), receivedOn, today,
            working.AddWorkingDays(today, Objection.DecisionWorkingDays), "open");
        if (!await objections.TryAddAsync(objection, cancellationToken))
        {
            return Problems.Conflict($"Unit {unit.Uscc} already has an open objection to its {year} allocation; it is decided before another is filed.");
        }
        await audit.RecordAsync(Actor.From(http.User), "objection.filed", $"objections/{objection.Id}", null, objection, cancellationToken);
        return TypedResults.Created($"/api/objections/{objection.Id}", new ObjectionView(objection, objection.OverdueOn(today)));
    }
}

/// <summary>
/// POST /api/objections/{id}/decision (regulator): upholds or rejects; an upheld objection may carry an adjustment, paid
/// to the unit from the adjustment reserve (Art. 12) through the ledger.
/// </summary>
public sealed class DecideObjection : IHttpFunction
{
    public enum DecisionOutcome { Upheld, Rejected }

    public sealed record Request(DecisionOutcome Outcome, string? Explanation = null, Tonnes? Adjustment = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/objections/{id}/decision", HandleAsync).RequireRoles(Roles.Regulator).WithTags("Allocation");
        api.MapGet("/objections/{id}", GetAsync).WithTags("Allocation");
    }

    private static async Task<Results<Ok<ObjectionView>, ProblemHttpResult>> HandleAsync(
        string id, Request request, HttpContext http, ObjectionStore objections, LedgerSubmitter submitter, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request.Adjustment is { Value: <= 0 }) return ProblemHandling.BadRequest("adjustment must be a positive whole number of tonnes, or left out.");
        if (request.Adjustment is not null && request.Outcome == DecisionOutcome.Rejected) return ProblemHandling.BadRequest("A rejected objection carries no adjustment.");
        var found = await objections.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No objection {id}.");
        var (objection, etag) = found.Value;
        if (objection.State != "open") return Problems.Conflict($"Objection {id} was already decided on {objection.DecidedOn:yyyy-MM-dd}.");

        var actor = Actor.From(http.User);
        var today = BeijingTime.Today(clock);
        LedgerTransaction? payment = request.Adjustment is { } adjustment
            ? new LedgerTransaction(LedgerIds.ObjectionPayout(id), Domain.Ledger.TransactionType.Allocation, RegulatorAccounts.Reserve, objection.Uscc, Products.Bea,
                objection.Year, adjustment, null, $"Art. 15 adjustment on objection {id}", actor.Id, clock.GetUtcNow())
            : null;
        var decided = objection with
        {
            State = "decided",
            Outcome = JsonNamingPolicy.KebabCaseLower.ConvertName(request.Outcome.ToString()),
            Adjustment = request.Adjustment,
            DecidedOn = today,
            AdjustmentTransactionId = payment?.TransactionId,
            Explanation = request.Explanation?.Trim(),
        };
        try
        {
            await objections.DecideAsync(decided, etag, cancellationToken);
        }
        catch (TableTransactionFailedException error) when (error.Status == 412)
        {
            return Problems.Conflict($"Objection {id} was decided by someone else just now.");
        }
        if (payment is not null) await submitter.SubmitAsync(payment, cancellationToken);
        await audit.RecordAsync(actor, "objection.decided", $"objections/{id}", objection, decided, cancellationToken);
        return TypedResults.Ok(new ObjectionView(decided, decided.OverdueOn(today)));
    }

    private static async Task<Results<Ok<ObjectionView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, ObjectionStore objections, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await objections.FindAsync(id, cancellationToken);
        if (found is null || UnitAccess.Check(http.User, found.Value.Objection.Uscc, found.Value.Objection.District) != AccessVerdict.Allowed)
        {
            return ProblemHandling.NotFound($"No objection {id} that you may see.");
        }
        return TypedResults.Ok(new ObjectionView(found.Value.Objection, found.Value.Objection.OverdueOn(BeijingTime.Today(clock))));
    }
}
