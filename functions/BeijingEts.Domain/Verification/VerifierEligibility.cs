namespace BeijingEts.Domain.Verification;

public sealed record VerifierStaff(string Id, string Name, bool FullTime, IReadOnlyDictionary<string, int> ExperienceYears);

/// <summary>A verification body as the regulator records it, with what Art. 24 asks of it.</summary>
public sealed record Verifier(
    string Uscc, string Name, bool RegisteredInPrc, bool IndependentLegalPerson, bool FixedOffice,
    IReadOnlyList<string> QualityManagement, IReadOnlyList<string> GhgExperience, IReadOnlyList<VerifierStaff> Staff);

public enum RelatedService
{
    Testing,
    Inspection,
    Management,
}

/// <summary>A service the body gave a unit (testing, inspection, management), from <c>From</c> to <c>To</c> (open if still going).</summary>
public sealed record VerifierRelationship(string Unit, RelatedService Service, DateOnly From, DateOnly? To);

public static class VerifierEligibility
{
    public const int MinimumIndustryVerifiers = 2;
    public const int LeadMinimumYears = 3;
    public const int RelationshipLookbackYears = 2;

    /// <summary>
    /// Every Art. 24 condition the body fails for verifying a unit of <paramref name="industry"/> with the named lead
    /// verifier, engaged on <paramref name="engagedOn"/>; empty when it may. Without a named lead, some staff member
    /// must be able to lead.
    /// </summary>
    public static IReadOnlyList<string> Failures(Verifier verifier, string unit, string industry, string? leadVerifier,
        IEnumerable<VerifierRelationship> relationships, DateOnly engagedOn)
    {
        var failures = new List<string>();
        if (!verifier.RegisteredInPrc) failures.Add("Art. 24 (1): not registered in the People's Republic of China.");
        if (!verifier.IndependentLegalPerson) failures.Add("Art. 24 (1): not an independent legal person.");
        if (!verifier.FixedOffice) failures.Add("Art. 24 (1): no fixed office and working conditions for verification.");
        if (verifier.QualityManagement.Count == 0) failures.Add("Art. 24 (2): no internal quality management documents on record.");
        if (verifier.GhgExperience.Count == 0) failures.Add("Art. 24 (3): no record of greenhouse-gas verification experience.");

        var inIndustry = verifier.Staff.Where(s => s.ExperienceYears.GetValueOrDefault(industry) > 0).ToList();
        if (inIndustry.Count < MinimumIndustryVerifiers)
        {
            failures.Add($"Art. 24 (4): {inIndustry.Count} verifier(s) with {industry} experience; at least {MinimumIndustryVerifiers} are needed.");
        }
        if (leadVerifier is not null)
        {
            var lead = verifier.Staff.FirstOrDefault(s => s.Id == leadVerifier);
            if (lead is null) failures.Add($"Art. 24 (4): the lead verifier {leadVerifier} is not on the body's staff.");
            else if (lead.ExperienceYears.GetValueOrDefault(industry) < LeadMinimumYears)
            {
                failures.Add($"Art. 24 (4): the lead verifier {lead.Id} has {lead.ExperienceYears.GetValueOrDefault(industry)} year(s) in {industry}; the report's lead needs at least {LeadMinimumYears}.");
            }
        }
        else if (!verifier.Staff.Any(s => s.ExperienceYears.GetValueOrDefault(industry) >= LeadMinimumYears))
        {
            failures.Add($"Art. 24 (4): nobody on the staff has {LeadMinimumYears} years in {industry} to lead the report.");
        }
        if (verifier.Staff.Count == 0 || verifier.Staff.Count(s => s.FullTime) * 2 <= verifier.Staff.Count)
        {
            failures.Add($"Art. 24 (4): verifiers must be mostly full-time; {verifier.Staff.Count(s => s.FullTime)} of {verifier.Staff.Count} are.");
        }
        var since = engagedOn.AddYears(-RelationshipLookbackYears);
        foreach (var related in relationships.Where(r => r.Unit == unit && r.From <= engagedOn && (r.To is null || r.To >= since)))
        {
            failures.Add($"Art. 24 (5): a {related.Service.ToString().ToLowerInvariant()} service to the unit from {related.From:yyyy-MM-dd}{(related.To is { } to ? $" to {to:yyyy-MM-dd}" : " (ongoing)")}, within the {RelationshipLookbackYears} years before {engagedOn:yyyy-MM-dd}.");
        }
        return failures;
    }
}
