using System.Security.Claims;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Auth;

public enum AccessVerdict
{
    Allowed,
    /// <summary>403: the caller may know the unit exists but not act on it.</summary>
    Forbidden,
    /// <summary>404: a unit asking about another unit must not learn whether it exists.</summary>
    Hidden,
}

/// <summary>Who may see or act for a unit: the regulator, the unit's own district bureau, and the unit itself.</summary>
public static class UnitAccess
{
    public static AccessVerdict Check(ClaimsPrincipal user, string uscc, string? unitDistrict)
    {
        if (user.IsInRole(Roles.Regulator)) return AccessVerdict.Allowed;
        if (user.IsInRole(Roles.Unit))
        {
            return string.Equals(user.FindFirstValue(EtsClaims.UnitId), uscc, StringComparison.OrdinalIgnoreCase) ? AccessVerdict.Allowed : AccessVerdict.Hidden;
        }
        if (user.IsInRole(Roles.District) && unitDistrict is not null && user.FindFirstValue(EtsClaims.District) == unitDistrict)
        {
            return AccessVerdict.Allowed;
        }
        return AccessVerdict.Forbidden;
    }

    public static bool IsUnit(ClaimsPrincipal user, string uscc) =>
        user.IsInRole(Roles.Unit) && string.Equals(user.FindFirstValue(EtsClaims.UnitId), uscc, StringComparison.OrdinalIgnoreCase);

    public static bool IsDistrictOf(ClaimsPrincipal user, string district) =>
        user.IsInRole(Roles.District) && user.FindFirstValue(EtsClaims.District) == district;

    /// <summary>
    /// A record about a unit (a removal, a change) as its readers see it: the regulator, the unit's district bureau and the
    /// unit itself; 404 for a missing record and for another unit (which must not learn it exists), 403 for anyone else.
    /// </summary>
    public static Results<Ok<T>, ProblemHttpResult> Read<T>(ClaimsPrincipal user, T? record, string uscc, string? district, string what) where T : class =>
        (record is null ? AccessVerdict.Hidden : Check(user, uscc, district)) switch
        {
            AccessVerdict.Allowed => TypedResults.Ok(record!),
            AccessVerdict.Forbidden => Problems.Forbidden($"{what} can be read by the regulator, the unit's district bureau and the unit."),
            _ => ProblemHandling.NotFound($"No {char.ToLowerInvariant(what[0])}{what[1..]}."),
        };
}
