using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Reporting;

public sealed record EmissionFactorsView(int Year, IReadOnlyDictionary<string, FuelFactor> Fuels, decimal ElectricityTCO2PerMWh, decimal HeatTCO2PerGJ);

/// <summary>
/// The emissionfactors table: one row per year, set by the regulator, read by every report of that year. Reports are
/// computed with <see cref="CurrentAsync"/>: a year's factors change a few times at most, so they are read again after
/// <see cref="CacheFor"/> (a change made on another instance reaches this one's reports within that time).
/// </summary>
public sealed class EmissionFactorStore(StorageClients storage)
{
    private const string Partition = "factors";

    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private readonly RecentReads<int, EmissionFactors> _recent = new(CacheFor);

    private TableClient Table => storage.Table(StorageNames.Tables.EmissionFactors);

    /// <summary>The year's factors as stored now.</summary>
    public Task<EmissionFactors?> FindAsync(int year, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<EmissionFactors>(Partition, DocumentRows.YearKey(year), cancellationToken);

    /// <summary>The factors a report is computed with: as read within <see cref="CacheFor"/>.</summary>
    public Task<EmissionFactors?> CurrentAsync(int year, CancellationToken cancellationToken) =>
        _recent.GetAsync(year, ct => FindAsync(year, ct), cancellationToken);

    public async Task PutAsync(int year, EmissionFactors factors, CancellationToken cancellationToken)
    {
        await Table.UpsertDocumentAsync(Partition, DocumentRows.YearKey(year), factors, cancellationToken);
        _recent.Forget(year);
    }
}

/// <summary>
/// PUT /api/reference/{year}/emission-factors (regulator): the fuels, their NCV, carbon content and oxidation rate, and the
/// grid and heat factors a year's reports are computed with. GET: anyone signed in, so units can check their figures.
/// Reports already submitted keep the factors they were computed with; each version records them.
/// </summary>
public sealed class PutEmissionFactors : IHttpFunction
{
    public sealed record Request(IReadOnlyDictionary<string, FuelFactor> Fuels, decimal ElectricityTCO2PerMWh, decimal HeatTCO2PerGJ);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/reference/{year:int}/emission-factors", HandleAsync).WithTags("Reports");
        api.MapGet("/reference/{year:int}/emission-factors", async Task<Results<Ok<EmissionFactorsView>, ProblemHttpResult>> (int year, EmissionFactorStore store, CancellationToken ct) =>
            await store.FindAsync(year, ct) is { } factors ? TypedResults.Ok(View(year, factors)) : ProblemHandling.NotFound($"No emission factors are set for {year}."))
            .WithTags("Reports");
    }

    private static async Task<Results<Ok<EmissionFactorsView>, ProblemHttpResult>> HandleAsync(
        int year, Request request, HttpContext http, EmissionFactorStore store, AuditLog audit, CancellationToken cancellationToken)
    {
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var factors = new EmissionFactors(request.Fuels.ToDictionary(f => f.Key, f => f.Value with { Unit = f.Value.Unit?.Trim() ?? "" }, StringComparer.Ordinal),
            request.ElectricityTCO2PerMWh, request.HeatTCO2PerGJ);
        var problems = EmissionFactors.Validate(factors);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var before = await store.FindAsync(year, cancellationToken);
        await store.PutAsync(year, factors, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "emission-factors.set", $"reference/{year}/emission-factors", before, factors, cancellationToken);
        return TypedResults.Ok(View(year, factors));
    }

    private static EmissionFactorsView View(int year, EmissionFactors f) => new(year, f.Fuels, f.ElectricityTCO2PerMWh, f.HeatTCO2PerGJ);
}
