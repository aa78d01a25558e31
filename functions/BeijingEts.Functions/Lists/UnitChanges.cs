using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// POST /api/units/{uscc}/changes (the unit, or the regulator for it): a rename, merger or split registered with market
/// regulation, to be registered here within 20 working days (Art. 8). A rename takes effect at once. A merger or split
/// hands the unit's holdings and obligations to its successors, so it waits for the unit's district bureau and then the
/// regulator (POST /api/changes/{id}/district-confirmation, /confirmation); until then nothing moves.
/// </summary>
public sealed class RegisterUnitChange : IHttpFunction
{
    public enum ChangeKind { Rename, Merger, Split }

    /// <param name="Shares">A split's division among its successors, as whole-number weights in their order; equal if left out.</param>
    public sealed record Request(ChangeKind Kind, DateOnly RegisteredOn, string? NewName = null, IReadOnlyList<string>? Successors = null, IReadOnlyList<int>? Shares = null);

    /// <summary>Art. 8: 20 working days after the market-regulation registration.</summary>
    public const int DeadlineWorkingDays = 20;

    public const int MaxShare = 1_000_000;

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/units/{uscc}/changes", HandleAsync).WithTags("Units");

    private static async Task<Results<Created<UnitChange>, ProblemHttpResult>> HandleAsync(
        string uscc, Request request, HttpContext http, UnitStore units, UnitChangeStore changes, CalendarService calendar, Supervision.DistrictCheckService checks,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        if (!http.User.IsInRole(Roles.Regulator) && !UnitAccess.IsUnit(http.User, code)) return Problems.UnknownUnit(code);
        var found = await units.FindAsync(code, cancellationToken);
        if (found is null) return Problems.UnknownUnit(code);
        var (unit, etag) = found.Value;
        if (unit.Status != UnitStatus.Active) return Problems.Conflict($"Unit {code} is {unit.Status}; only an active unit registers changes.");

        var today = BeijingTime.Today(clock);
        var (successors, problems) = Validate(request, code, today);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        foreach (var successor in successors)
        {
            var registered = await units.FindAsync(successor, cancellationToken);
            if (registered is null) return Problems.Unprocessable($"Successor {successor} is not registered; the regulator registers it with PUT /api/units/{successor} first.");
            if (registered.Value.Unit.Status != UnitStatus.Active) return Problems.Unprocessable($"Successor {successor} is {registered.Value.Unit.Status}; holdings and obligations pass only to an active unit.");
        }

        var actor = Actor.From(http.User);
        var deadline = (await calendar.GetAsync(cancellationToken)).AddWorkingDays(request.RegisteredOn, DeadlineWorkingDays);
        var id = Guid.NewGuid().ToString("N");
        if (request.Kind == ChangeKind.Rename)
        {
            var rename = new UnitChange(id, code, unit.District, UnitChangeKinds.Rename, request.RegisteredOn, deadline, today > deadline, today, unit.Name,
                request.NewName!.Trim(), [], RequestedBy: actor.Id, RequestedAt: clock.GetUtcNow());
            var renamed = unit with { Name = rename.NewName!, UpdatedAt = clock.GetUtcNow() };
            try
            {
                await units.ReplaceAsync(renamed, etag, cancellationToken);
            }
            catch (RequestFailedException error) when (error.Status == 412)
            {
                return Problems.Conflict($"Unit {code} changed while this change was registered; send it again.");
            }
            await changes.AddAsync(rename, cancellationToken);
            await audit.RecordAsync(actor, "unit.rename", $"units/{code}", UnitView.From(unit), new { unit = UnitView.From(renamed), change = rename }, cancellationToken);
            if (today > deadline) await checks.LateChangeAsync(code, unit.District, id, "rename", request.RegisteredOn, deadline, cancellationToken);
            return TypedResults.Created($"/api/changes/{id}", rename);
        }

        var change = UnitChange.Succession(id, code, unit.District, Kind(request.Kind), request.RegisteredOn, deadline, today, unit.Name, successors,
            request.Shares, actor.Id, clock.GetUtcNow());
        if (await changes.TryAddOpenAsync(change, cancellationToken) is { } open)
        {
            return Problems.Conflict($"Change {open} of {code} is still awaiting confirmation; it must be confirmed or rejected before another merger or split is registered.");
        }
        await audit.RecordAsync(actor, "unit-change.registered", $"changes/{id}", null, change, cancellationToken);
        // Art. 8: registered after its deadline, the district follows it up.
        if (today > deadline) await checks.LateChangeAsync(code, unit.District, id, change.Kind, request.RegisteredOn, deadline, cancellationToken);
        return TypedResults.Created($"/api/changes/{id}", change);
    }

    private static (List<string> Successors, List<string> Problems) Validate(Request request, string code, DateOnly today)
    {
        var problems = new List<string>();
        if (request.RegisteredOn > today) problems.Add($"registeredOn {request.RegisteredOn:yyyy-MM-dd} is in the future; give the date market regulation registered the change.");
        else if (request.RegisteredOn.Year < 2013) problems.Add($"registeredOn {request.RegisteredOn:yyyy-MM-dd} is out of range; give the date market regulation registered the change.");
        var successors = new List<string>();
        if (request.Kind == ChangeKind.Rename)
        {
            if (string.IsNullOrWhiteSpace(request.NewName)) problems.Add("newName is required for a rename.");
            else if (request.NewName.Length > 200) problems.Add("newName is longer than 200 characters.");
            if (request.Successors is { Count: > 0 }) problems.Add("successors are for a merger or split, not a rename.");
            if (request.Shares is not null) problems.Add("shares are for a split, not a rename.");
            return (successors, problems);
        }
        if (request.NewName is not null) problems.Add("newName is for a rename; a merger or split names its successors.");
        foreach (var text in (request.Successors ?? []).Take(20))
        {
            if (!Uscc.TryParse(text, out var successor, out var error)) problems.Add($"successor {error}");
            else if (successor.Value == code) problems.Add($"{code} cannot succeed itself.");
            else if (successors.Contains(successor.Value)) problems.Add($"successor {successor} is named twice.");
            else successors.Add(successor.Value);
        }
        if (request.Successors is { Count: > 20 }) problems.Add("successors lists at most 20 units.");
        var needed = request.Kind == ChangeKind.Split ? 2 : 1;
        if (successors.Count < needed && problems.Count == 0) problems.Add($"A {Kind(request.Kind)} names at least {needed} successor(s) by USCC.");
        if (request.Shares is { } shares)
        {
            if (shares.Count != (request.Successors?.Count ?? 0)) problems.Add($"shares has {shares.Count} weights for {request.Successors?.Count ?? 0} successors; give one per successor, in their order.");
            if (shares.Any(s => s is < 1 or > MaxShare)) problems.Add($"shares are whole-number weights from 1 to {MaxShare}.");
        }
        return (successors, problems);
    }

    private static string Kind(ChangeKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());
}

/// <summary>GET /api/units/{uscc}/changes: the unit's registered changes, newest first, each with where it stands, for whoever may read the unit.</summary>
public sealed class GetUnitChanges : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/units/{uscc}/changes", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<IReadOnlyList<UnitChange>>, ProblemHttpResult>> HandleAsync(
        string uscc, HttpContext http, UnitStore units, UnitChangeStore changes, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units,
            $"Unit {uscc}'s changes can be read by the regulator, its own district bureau and the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        return TypedResults.Ok(await changes.ForUnitAsync(unit.Uscc, cancellationToken));
    }
}
