using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// POST /api/units/{uscc}/changes (the unit, or the regulator for it): a rename, merger or split registered with market
/// regulation, to be registered here within 20 working days (Art. 8). A merger or split hands the unit's obligations
/// and holdings to its successors.
/// </summary>
public sealed class RegisterUnitChange : IHttpFunction
{
    public enum ChangeKind { Rename, Merger, Split }

    public sealed record Request(ChangeKind Kind, DateOnly RegisteredOn, string? NewName = null, IReadOnlyList<string>? Successors = null);

    public sealed record ChangeView(string Id, string Uscc, string Kind, DateOnly RegisteredOn, DateOnly Deadline, bool Late, DateOnly SubmittedOn,
        string? OldName, string? NewName, IReadOnlyList<string> Successors, IReadOnlyList<string>? HoldingTransfers = null);

    /// <summary>Art. 8: 20 working days after the market-regulation registration.</summary>
    public const int DeadlineWorkingDays = 20;

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/units/{uscc}/changes", HandleAsync).RequireRoles(Roles.Unit, Roles.Regulator).WithTags("Units");

    private static async Task<Results<Created<ChangeView>, ProblemHttpResult>> HandleAsync(
        string uscc, Request request, HttpContext http, UnitStore units, CalendarService calendar, StorageClients storage, AuditLog audit, TimeProvider clock,
        Ledger.LedgerStore ledger, Ledger.LedgerSubmitter submitter, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        if (!http.User.IsInRole(Roles.Regulator) && !UnitAccess.IsUnit(http.User, code)) return Problems.UnknownUnit(code);
        var found = await units.FindAsync(code, cancellationToken);
        if (found is null) return Problems.UnknownUnit(code);
        var (unit, etag) = found.Value;
        if (unit.Status != UnitStatus.Active)
        {
            return Problems.Conflict($"Unit {code} is {unit.Status}; only an active unit registers changes.");
        }

        var today = BeijingTime.Today(clock);
        var problems = new List<string>();
        if (request.RegisteredOn > today) problems.Add($"registeredOn {request.RegisteredOn:yyyy-MM-dd} is in the future; give the date market regulation registered the change.");
        var successors = new List<string>();
        if (request.Kind == ChangeKind.Rename)
        {
            if (string.IsNullOrWhiteSpace(request.NewName)) problems.Add("newName is required for a rename.");
            if (request.Successors is { Count: > 0 }) problems.Add("successors are for a merger or split, not a rename.");
        }
        else
        {
            if (request.NewName is not null) problems.Add("newName is for a rename; a merger or split names its successors.");
            foreach (var text in request.Successors ?? [])
            {
                if (!Uscc.TryParse(text, out var successor, out var error)) problems.Add($"successor {error}");
                else if (successor.Value == code) problems.Add($"{code} cannot succeed itself.");
                else if (successors.Contains(successor.Value)) problems.Add($"successor {successor} is named twice.");
                else successors.Add(successor.Value);
            }
            var needed = request.Kind == ChangeKind.Split ? 2 : 1;
            if (successors.Count < needed && problems.Count == 0) problems.Add($"A {Kind(request.Kind)} names at least {needed} successor(s) by USCC.");
        }
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        foreach (var successor in successors)
        {
            if (await units.FindAsync(successor, cancellationToken) is null)
            {
                return Problems.Unprocessable($"Successor {successor} is not registered; the regulator registers it with PUT /api/units/{successor} first.");
            }
        }

        var deadline = (await calendar.GetAsync(cancellationToken)).AddWorkingDays(request.RegisteredOn, DeadlineWorkingDays);
        var change = new ChangeView(Guid.NewGuid().ToString("N"), code, Kind(request.Kind), request.RegisteredOn, deadline, today > deadline, today,
            unit.Name, request.NewName?.Trim(), successors);
        var after = request.Kind == ChangeKind.Rename
            ? unit with { Name = change.NewName!, UpdatedAt = clock.GetUtcNow() }
            : unit with { Status = UnitStatus.Succeeded, Successors = successors, UpdatedAt = clock.GetUtcNow() };
        try
        {
            await units.ReplaceAsync(after, etag, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 412)
        {
            return Problems.Conflict($"Unit {code} changed while this change was registered; send it again.");
        }
        var successions = request.Kind == ChangeKind.Rename
            ? []
            : Successions(change, (await ledger.ReadAccountAsync(code, cancellationToken)).Holdings, Actor.From(http.User), clock.GetUtcNow());
        change = change with { HoldingTransfers = successions.Select(t => t.TransactionId).ToList() };
        await storage.Table(StorageNames.Tables.UnitChanges).AddEntityAsync(new TableEntity(code, change.Id)
        {
            ["Document"] = JsonSerializer.Serialize(change, AuditLog.AuditJson),
        }, cancellationToken);
        // A merger or split moves obligations and holdings to the successors; the audit row is the record of it.
        await audit.RecordAsync(Actor.From(http.User), $"unit.{change.Kind}", $"units/{code}", UnitView.From(unit),
            new { unit = UnitView.From(after), change }, cancellationToken);
        foreach (var succession in successions) await submitter.SubmitAsync(succession, cancellationToken);
        return TypedResults.Created($"/api/units/{code}/changes/{change.Id}", change);
    }

    /// <summary>
    /// The holdings pass to the successors: all to a merger's successor; in equal whole-tonne shares on a split, the
    /// tonnes that do not divide going to the first successor, so every tonne lands somewhere exactly once.
    /// </summary>
    internal static List<Ledger.LedgerTransaction> Successions(ChangeView change, IReadOnlyList<Ledger.Holding> holdings, Actor actor, DateTimeOffset now)
    {
        var transfers = new List<Ledger.LedgerTransaction>();
        var n = change.Successors.Count;
        foreach (var holding in holdings.Where(h => h.Quantity.Value > 0))
        {
            var share = holding.Quantity.Value / n;
            for (var i = 0; i < n; i++)
            {
                var quantity = share + (i == 0 ? holding.Quantity.Value % n : 0);
                if (quantity == 0) continue;
                transfers.Add(new Ledger.LedgerTransaction(Domain.Ledger.LedgerIds.Succession(change.Id, transfers.Count), Domain.Ledger.TransactionType.Succession, change.Uscc,
                    change.Successors[i], holding.Product, holding.Vintage, new Domain.Ledger.Tonnes(quantity), holding.Lot,
                    $"Art. 8 {change.Kind} {change.Id}", actor.Id, now));
            }
        }
        return transfers;
    }

    private static string Kind(ChangeKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());
}

/// <summary>GET /api/units/{uscc}/changes: the unit's registered changes, newest first, for whoever may read the unit.</summary>
public sealed class GetUnitChanges : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/units/{uscc}/changes", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<List<RegisterUnitChange.ChangeView>>, ProblemHttpResult>> HandleAsync(
        string uscc, HttpContext http, UnitStore units, StorageClients storage, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units,
            $"Unit {uscc}'s changes can be read by the regulator, its own district bureau and the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        var code = unit.Uscc;
        var changes = new List<RegisterUnitChange.ChangeView>();
        await foreach (var row in storage.Table(StorageNames.Tables.UnitChanges).QueryAsync<TableEntity>(r => r.PartitionKey == code, cancellationToken: cancellationToken))
        {
            changes.Add(JsonSerializer.Deserialize<RegisterUnitChange.ChangeView>(row.GetString("Document"), AuditLog.AuditJson)!);
        }
        return TypedResults.Ok(changes.OrderByDescending(c => c.SubmittedOn).ThenByDescending(c => c.RegisteredOn).ToList());
    }
}
