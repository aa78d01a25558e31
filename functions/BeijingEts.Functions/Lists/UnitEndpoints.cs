using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

public sealed record UnitView(string Uscc, string Name, string District, string Industry, bool NationalEts, string Status,
    DateTimeOffset RegisteredAt, DateTimeOffset UpdatedAt, DateOnly? RemovedOn, DateOnly? AccountCancellationDeadline, IReadOnlyList<string>? Successors)
{
    public static UnitView From(UnitRecord u) => new(u.Uscc, u.Name, u.District, u.Industry, u.NationalEts, u.Status,
        u.RegisteredAt, u.UpdatedAt, u.RemovedOn, u.AccountCancellationDeadline, u.Successors);
}

internal static class UnitInput
{
    /// <summary>Parses a USCC from a route, or gives the 400 that says what is wrong with it.</summary>
    public static bool TryParse(string text, out string uscc, out ProblemHttpResult? problem)
    {
        if (Uscc.TryParse(text, out var parsed, out var error))
        {
            uscc = parsed.Value;
            problem = null;
            return true;
        }
        uscc = "";
        problem = ProblemHandling.BadRequest(error);
        return false;
    }

    /// <summary>
    /// The unit a route names, if the caller may see it (the regulator, its district bureau, the unit itself); else the
    /// problem to answer: 400 for a malformed code, 404 for an unknown unit or another unit's, 403 with <paramref name="forbidden"/>.
    /// With <paramref name="recent"/> the unit is read through <see cref="UnitStore.RecentAsync"/>.
    /// </summary>
    public static async Task<(UnitRecord? Unit, ProblemHttpResult? Problem)> FindVisibleAsync(
        string text, System.Security.Claims.ClaimsPrincipal user, UnitStore units, string forbidden, CancellationToken cancellationToken, bool recent = false)
    {
        if (!TryParse(text, out var code, out var invalid)) return (null, invalid);
        var found = recent ? await units.RecentAsync(code, cancellationToken) : (await units.FindAsync(code, cancellationToken))?.Unit;
        return UnitAccess.Check(user, code, found?.District) switch
        {
            AccessVerdict.Hidden => (null, Problems.UnknownUnit(code)),
            AccessVerdict.Forbidden => (null, Problems.Forbidden(forbidden)),
            _ when found is null => (null, Problems.UnknownUnit(code)),
            _ => (found, null),
        };
    }

    /// <summary>
    /// Reads one of a unit's records for the regulator, its district bureau and the unit itself (<paramref name="what"/>
    /// names it in the 403), answering 404 with <paramref name="notFound"/> when <paramref name="read"/> finds none.
    /// </summary>
    public static async Task<Results<Ok<T>, ProblemHttpResult>> ReadVisibleAsync<T>(string text, System.Security.Claims.ClaimsPrincipal user, UnitStore units,
        string what, Func<string, Task<T?>> read, Func<string, string> notFound, CancellationToken cancellationToken) where T : class
    {
        var (unit, problem) = await FindVisibleAsync(text, user, units,
            $"Unit {text}'s {what} can be read by the regulator, its own district bureau and the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        return await read(unit.Uscc) is { } found ? TypedResults.Ok(found) : ProblemHandling.NotFound(notFound(unit.Uscc));
    }
}

/// <summary>PUT /api/units/{uscc} (regulator): registers a unit or updates its details.</summary>
public sealed class PutUnit : IHttpFunction
{
    public sealed record Request(string Name, string District, string Industry, bool NationalEts = false);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/units/{uscc}", HandleAsync).WithTags("Units");

    private static async Task<Results<Created<UnitView>, Ok<UnitView>, ProblemHttpResult>> HandleAsync(
        string uscc, Request request, HttpContext http, UnitStore units, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        var problems = Validate(request);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var now = clock.GetUtcNow();
        var existing = await units.FindAsync(code, cancellationToken);
        if (existing is null)
        {
            var unit = new UnitRecord(code, request.Name.Trim(), request.District, request.Industry, request.NationalEts, now, now);
            if (!await units.TryAddAsync(unit, cancellationToken))
            {
                return Problems.Conflict($"Unit {code} was registered by someone else just now; read it and send your change again.");
            }
            await audit.RecordAsync(Actor.From(http.User), "unit.registered", $"units/{code}", null, UnitView.From(unit), cancellationToken);
            return TypedResults.Created($"/api/units/{code}", UnitView.From(unit));
        }
        var (before, etag) = existing.Value;
        var after = before with { Name = request.Name.Trim(), District = request.District, Industry = request.Industry, NationalEts = request.NationalEts, UpdatedAt = now };
        try
        {
            await units.ReplaceAsync(after, etag, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 412)
        {
            return Problems.Conflict($"Unit {code} changed while you were updating it; read it and send your change again.");
        }
        await audit.RecordAsync(Actor.From(http.User), "unit.updated", $"units/{code}", UnitView.From(before), UnitView.From(after), cancellationToken);
        return TypedResults.Ok(UnitView.From(after));
    }

    internal static List<string> Validate(Request request)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Name)) problems.Add("name must not be empty.");
        else if (request.Name.Trim().Length > 200) problems.Add("name is longer than 200 characters.");
        if (!Districts.IsKnown(request.District))
        {
            problems.Add($"district '{request.District}' is not a Beijing district; write one of {string.Join("、", Districts.All)}.");
        }
        if (!Industries.IsKnown(request.Industry))
        {
            problems.Add($"industry '{request.Industry}' is unknown; the industries are {string.Join(", ", Industries.All)}.");
        }
        return problems;
    }
}

/// <summary>GET /api/units/{uscc}: for the regulator, the unit's district bureau and the unit itself.</summary>
public sealed class GetUnit : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/units/{uscc}", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<UnitView>, ProblemHttpResult>> HandleAsync(string uscc, HttpContext http, UnitStore units, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units,
            $"Unit {uscc} can be read by the regulator, its own district bureau and the unit itself.", cancellationToken);
        return unit is null ? problem! : TypedResults.Ok(UnitView.From(unit));
    }
}
