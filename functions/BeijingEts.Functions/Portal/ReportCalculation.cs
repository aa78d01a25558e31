using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// POST /api/reports/calculate: an annual report's emissions computed as PUT /api/units/{uscc}/reports/{year} computes
/// them (<see cref="EmissionCalculation"/>, the year's factors), line by line, without saving anything; the portal's report
/// form calls it as the unit types, so the totals it shows are the server's. The declaration is not needed to calculate.
/// </summary>
public sealed class ReportCalculation : IHttpFunction
{
    public sealed record Request(
        int Year,
        IReadOnlyList<FuelUse>? Fuels = null,
        IReadOnlyList<ProcessEmission>? Processes = null,
        decimal PurchasedElectricityMWh = 0,
        decimal PurchasedHeatGJ = 0,
        decimal NonFossilElectricityMWh = 0,
        string? NonFossilEvidence = null,
        IReadOnlyList<ActivityLine>? Activity = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/reports/calculate", CalculateAsync).WithTags("Portal").NotAudited("computes a report's figures and saves nothing");

    private static async Task<Results<Ok<EmissionResult>, ProblemHttpResult>> CalculateAsync(Request request, EmissionFactorStore factorStore, CancellationToken cancellationToken)
    {
        if (request.Year is < 2013 or > 2100) return ProblemHandling.BadRequest($"year {request.Year} is out of range (2013 to 2100).");
        var factors = await factorStore.CurrentAsync(request.Year, cancellationToken);
        if (factors is null) return ProblemHandling.NotFound($"No emission factors are set for {request.Year}; the regulator sets them with PUT /api/reference/{request.Year}/emission-factors.");
        var fuels = (request.Fuels ?? []).Select(f => f with { Unit = f.Unit?.Trim() ?? "" }).ToList();
        var report = new AnnualReport(fuels, request.Processes ?? [], request.PurchasedElectricityMWh, request.PurchasedHeatGJ,
            request.NonFossilElectricityMWh, request.NonFossilEvidence, request.Activity ?? [], new Declaration("", ""));
        var problems = EmissionCalculation.ValidateFigures(report, factors);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        return TypedResults.Ok(EmissionCalculation.Compute(report, factors));
    }
}
