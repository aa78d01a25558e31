using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Cycle;

/// <summary>
/// When each step of a compliance year falls due, as the regulator sets it: date-times, so that a test or a demo can
/// run a year in minutes. In order from the list's publication to the cycle's close.
/// </summary>
public sealed record CycleSchedule(
    int Year, DateTimeOffset ListPublication, DateTimeOffset PreAllocation, DateTimeOffset ReportsDue, DateTimeOffset VerificationDue,
    DateTimeOffset ConfirmationDue, DateTimeOffset VerifiedAllocation, DateTimeOffset SurrenderDue, DateTimeOffset Close, DateTimeOffset SetAt, string SetBy)
{
    /// <summary>The dates by their API names, in the order they must fall.</summary>
    public IReadOnlyList<(string Name, DateTimeOffset At)> InOrder() =>
    [
        ("listPublication", ListPublication), ("preAllocation", PreAllocation), ("reportsDue", ReportsDue), ("verificationDue", VerificationDue),
        ("confirmationDue", ConfirmationDue), ("verifiedAllocation", VerifiedAllocation), ("surrenderDue", SurrenderDue), ("close", Close),
    ];

    /// <summary>Each pair of consecutive dates out of order, as a sentence naming both.</summary>
    public IReadOnlyList<string> OrderProblems()
    {
        var dates = InOrder();
        var problems = new List<string>();
        for (var i = 1; i < dates.Count; i++)
        {
            if (dates[i].At < dates[i - 1].At)
            {
                problems.Add($"{dates[i].Name} ({dates[i].At:O}) is before {dates[i - 1].Name} ({dates[i - 1].At:O}); the dates must follow the cycle's order.");
            }
        }
        return problems;
    }
}

/// <summary>The cycles table: partition {yyyy}; the schedule is its "schedule" row.</summary>
public sealed class CycleScheduleStore(StorageClients storage)
{
    private const string Row = "schedule";

    private TableClient Table => storage.Table(StorageNames.Tables.Cycles);

    public Task<CycleSchedule?> FindAsync(int year, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<CycleSchedule>(DocumentRows.YearKey(year), Row, cancellationToken);

    public Task PutAsync(CycleSchedule schedule, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DocumentRows.YearKey(schedule.Year), Row, schedule, cancellationToken);
}

/// <summary>PUT /api/cycles/{year}/schedule (regulator): the year's schedule, in order, else 400 naming the pair. GET: the schedule.</summary>
public sealed class CycleScheduleEndpoints : IHttpFunction
{
    public sealed record Request(
        DateTimeOffset ListPublication, DateTimeOffset PreAllocation, DateTimeOffset ReportsDue, DateTimeOffset VerificationDue,
        DateTimeOffset ConfirmationDue, DateTimeOffset VerifiedAllocation, DateTimeOffset SurrenderDue, DateTimeOffset Close);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/cycles/{year:int}/schedule", PutAsync).WithTags("Cycle");
        api.MapGet("/cycles/{year:int}/schedule", async Task<Results<Ok<CycleSchedule>, ProblemHttpResult>> (int year, CycleScheduleStore schedules, CancellationToken ct) =>
            await schedules.FindAsync(year, ct) is { } schedule
                ? TypedResults.Ok(schedule)
                : ProblemHandling.NotFound($"No schedule is set for {year}; the regulator sets it with PUT /api/cycles/{year}/schedule.")).WithTags("Cycle");
    }

    private static async Task<Results<Ok<CycleSchedule>, ProblemHttpResult>> PutAsync(
        int year, Request request, HttpContext http, CycleScheduleStore schedules, CycleStore cycles, CycleInstances instances, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var actor = Actor.From(http.User);
        var schedule = new CycleSchedule(year, request.ListPublication, request.PreAllocation, request.ReportsDue, request.VerificationDue, request.ConfirmationDue,
            request.VerifiedAllocation, request.SurrenderDue, request.Close, clock.GetUtcNow(), actor.Id);
        var problems = schedule.OrderProblems();
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var before = await schedules.FindAsync(year, cancellationToken);
        await schedules.PutAsync(schedule, cancellationToken);
        await audit.RecordAsync(actor, "cycle.schedule-set", $"cycles/{year}", before, schedule, cancellationToken);
        // A running year sleeps until the due time it knew: it looks at the new schedule now.
        if (await cycles.FindAsync(year, cancellationToken) is ({ Phase: not CyclePhase.Closed }, _)) await instances.WakeAsync(year);
        return TypedResults.Ok(schedule);
    }
}
