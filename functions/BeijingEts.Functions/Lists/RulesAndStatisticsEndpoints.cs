using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

public sealed record ListRulesView(int FromYear, decimal EnergyThresholdTce, long KeyEmissionsThresholdT, IReadOnlyList<string> CoveredIndustries)
{
    public static ListRulesView From(ListRules r) => new(r.FromYear, r.EnergyThresholdTce, r.KeyEmissionsThresholdT, r.CoveredIndustries.Order(StringComparer.Ordinal).ToList());
}

/// <summary>PUT /api/lists/rules/{fromYear} (regulator): the Art. 6 thresholds and covered industries from that year on.</summary>
public sealed class PutListRules : IHttpFunction
{
    public sealed record Request(
        decimal EnergyThresholdTce = ListRules.DefaultEnergyThresholdTce,
        long KeyEmissionsThresholdT = ListRules.DefaultKeyEmissionsThresholdT,
        IReadOnlyList<string>? CoveredIndustries = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/lists/rules/{fromYear:int}", HandleAsync).WithTags("Lists");

    private static async Task<Results<Ok<ListRulesView>, ProblemHttpResult>> HandleAsync(
        int fromYear, Request request, HttpContext http, ListRulesStore rules, AuditLog audit, CancellationToken cancellationToken)
    {
        if (fromYear is < 2013 or > 2100) return ProblemHandling.BadRequest($"fromYear {fromYear} is out of range; give a year from 2013 to 2100.");
        var covered = request.CoveredIndustries ?? Industries.CoveredByDefault;
        var problems = ListRules.Validate(request.EnergyThresholdTce, request.KeyEmissionsThresholdT, covered);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var all = await rules.ReadAllAsync(cancellationToken);
        var before = all.FirstOrDefault(r => r.FromYear == fromYear);
        var after = new ListRules(fromYear, request.EnergyThresholdTce, request.KeyEmissionsThresholdT, covered.ToHashSet(StringComparer.Ordinal));
        await rules.PutAsync(after, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "list-rules.set", $"lists/rules/{fromYear}",
            before is null ? null : ListRulesView.From(before), ListRulesView.From(after), cancellationToken);
        return TypedResults.Ok(ListRulesView.From(after));
    }
}

/// <summary>GET /api/lists/rules/{year}: the rules in force for a year.</summary>
public sealed class GetListRules : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/lists/rules/{year:int}", async (int year, ListRulesStore rules, CancellationToken ct) =>
            TypedResults.Ok(ListRulesView.From(await rules.InForceAsync(year, ct)))).WithTags("Lists");
}

public sealed record StatisticsView(string Uscc, int Year, decimal EnergyConsumptionTce, long DirectEmissionsT, long IndirectEmissionsT, long? OutsideNationalBoundaryEmissionsT);

/// <summary>PUT /api/units/{uscc}/statistics/{year} (regulator): the unit's energy use and emissions for a year.</summary>
public sealed class PutUnitStatistics : IHttpFunction
{
    public sealed record Request(decimal EnergyConsumptionTce, long DirectEmissionsT, long IndirectEmissionsT, long? OutsideNationalBoundaryEmissionsT = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/units/{uscc}/statistics/{year:int}", HandleAsync).WithTags("Lists");

    private static async Task<Results<Ok<StatisticsView>, ProblemHttpResult>> HandleAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, StatisticsStore statistics, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        var found = await units.FindAsync(code, cancellationToken);
        if (found is null) return Problems.UnknownUnit(code);
        var problems = StatisticsRules.Validate(year, found.Value.Unit.NationalEts, request.EnergyConsumptionTce, request.DirectEmissionsT, request.IndirectEmissionsT,
            request.OutsideNationalBoundaryEmissionsT, clock.GetUtcNow());
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var figures = new UnitStatistics(request.EnergyConsumptionTce, request.DirectEmissionsT, request.IndirectEmissionsT, request.OutsideNationalBoundaryEmissionsT);
        var before = await statistics.FindAsync(year, code, cancellationToken);
        await statistics.PutAsync(year, code, figures, "api", cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "statistics.set", $"units/{code}/statistics/{year}", before, figures, cancellationToken);
        return TypedResults.Ok(new StatisticsView(code, year, figures.EnergyConsumptionTce, figures.DirectEmissionsT, figures.IndirectEmissionsT, figures.OutsideNationalBoundaryEmissionsT));
    }
}

/// <summary>The checks every statistics figure passes, whether sent alone or in an import file.</summary>
public static class StatisticsRules
{
    /// <summary>Beijing time: a statistics year is over only when it is over in Beijing.</summary>
    public static int CurrentYearInBeijing(DateTimeOffset now) => now.ToOffset(TimeSpan.FromHours(8)).Year;

    public static List<string> Validate(int year, bool nationalEts, decimal energy, long direct, long indirect, long? outside, DateTimeOffset now)
    {
        var problems = new List<string>();
        if (year > CurrentYearInBeijing(now)) problems.Add($"Year {year} has not begun; statistics are for past or current years.");
        if (year < 2013) problems.Add($"Year {year} is before the Beijing market began (2013).");
        if (energy < 0) problems.Add($"energyConsumptionTce is {energy}; it cannot be negative.");
        if (decimal.Round(energy, 4) != energy) problems.Add($"energyConsumptionTce {energy} has more than 4 decimal places.");
        if (direct < 0) problems.Add($"directEmissionsT is {direct}; it cannot be negative.");
        if (indirect < 0) problems.Add($"indirectEmissionsT is {indirect}; it cannot be negative.");
        if (outside < 0) problems.Add($"outsideNationalBoundaryEmissionsT is {outside}; it cannot be negative.");
        if (nationalEts && outside is null) problems.Add("outsideNationalBoundaryEmissionsT is required for a unit in the national ETS (Art. 6 para 2).");
        return problems;
    }
}

/// <summary>GET /api/units/{uscc}/statistics/{year}: a unit's figures for a year, for the regulator, its district and itself.</summary>
public sealed class GetUnitStatistics : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/units/{uscc}/statistics/{year:int}", HandleAsync).WithTags("Lists");

    private static Task<Results<Ok<StatisticsView>, ProblemHttpResult>> HandleAsync(
        string uscc, int year, HttpContext http, UnitStore units, StatisticsStore statistics, CancellationToken cancellationToken) =>
        UnitInput.ReadVisibleAsync(uscc, http.User, units, "statistics", async code => await statistics.FindAsync(year, code, cancellationToken) is { } figures
                ? new StatisticsView(code, year, figures.EnergyConsumptionTce, figures.DirectEmissionsT, figures.IndirectEmissionsT, figures.OutsideNationalBoundaryEmissionsT)
                : null,
            code => $"Unit {code} has no statistics for {year}.", cancellationToken);
}
