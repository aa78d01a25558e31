using System.Reflection;
using System.Text.RegularExpressions;

namespace BeijingEts.Functions.Errors;

/// <summary>
/// Finds the .NET type a JSON path ($.items[2].quantity) points at inside a request type, so a wrong-type error can
/// say what the field expects in the caller's terms ("a whole number"), not in .NET's.
/// </summary>
public static partial class JsonPathTypes
{
    public static Type? Resolve(Type root, string path)
    {
        Type? current = root;
        foreach (Match segment in Segment().Matches(path))
        {
            if (current is null) return null;
            current = segment.Groups["index"].Success ? ElementType(current) : Member(current, segment.Groups["name"].Value + segment.Groups["quoted"].Value);
        }
        return current;
    }

    /// <summary>What a JSON value for the type looks like, in the caller's words.</summary>
    public static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long) || type == typeof(short)) return "a whole number";
        if (type == typeof(BeijingEts.Domain.Ledger.Tonnes)) return "a whole number of tonnes";
        if (type == typeof(decimal) || type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(DateOnly)) return "a date (yyyy-MM-dd)";
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime)) return "an ISO 8601 date-time";
        if (type == typeof(Guid)) return "a GUID";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => JsonNamingPolicy.KebabCaseLower.ConvertName(n)));
        if (ElementType(type) is not null) return "an array";
        return "an object";
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string)) return null;
        if (type.IsArray) return type.GetElementType();
        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static Type? Member(Type type, string jsonName)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>)) return type.GetGenericArguments()[1];
        var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(p =>
            (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name).Equals(jsonName, StringComparison.OrdinalIgnoreCase));
        return property?.PropertyType;
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>[^']*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex Segment();
}
